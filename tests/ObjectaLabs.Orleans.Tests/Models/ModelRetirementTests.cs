using ObjectaLabs.Orleans.Api.Resolution;
using ObjectaLabs.Orleans.Deployment;
using ObjectaLabs.Orleans.Models;
using ObjectaLabs.Orleans.Organizations;
using ObjectaLabs.Orleans.Tests.Infrastructure;

namespace ObjectaLabs.Orleans.Tests.Models;

/// <summary>A model whose base model shuts down: warned 30 and 7 days ahead, retired at the date by its reminder (fake clock).</summary>
public sealed class ModelRetirementTests(FakeClockClusterFixture fixture) : IClassFixture<FakeClockClusterFixture>
{
    // gpt-4o-mini's shutdown date in the catalog.
    private static readonly DateTimeOffset Shutdown = new(2027, 1, 14, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task The_listing_warns_30_and_7_days_ahead_and_at_the_shutdown_date_the_reminder_retires_the_model()
    {
        var org = Guid.NewGuid();
        await fixture.Grains.GetGrain<IOrganizationGrain>(org).CreateAsync("Retiring Ltd", "business");
        var registry = fixture.Grains.GetGrain<IModelRegistryGrain>(org);
        var model = await registry.RegisterAsync(new ModelRegistration(org, Guid.NewGuid(), null, "Support", 0, "openai", "ft:gpt-4o-mini-2024-07-18:org::abc",
            "openai/gpt-4o-mini-2024-07-18", "hash", 10, 0, Simulated: false, fixture.Clock.GetUtcNow()));
        await registry.SetDefaultAsync(model.Id);
        var grain = fixture.Grains.GetGrain<IFineTunedModelGrain>(model.Id);
        // Deployed to an agent whose base model (the fallback) lives on.
        var agent = await fixture.Grains.GetGrain<IOrganizationGrain>(org).AddAgentAsync("Bot", "together/meta-llama/Meta-Llama-3.1-8B-Instruct-Reference");
        var deployments = fixture.Grains.GetGrain<IDeploymentsGrain>(org);
        await deployments.DeployAsync(agent.Id, new DeployRequest(ModelChoice.FineTuned(model.Id), null));
        var observer = fixture.Grains.CreateObjectReference<IResolutionObserver>(new IgnoredPushes());

        var farAhead = (await registry.GetCardAsync(model.Id)).Warnings;
        fixture.Clock.SetUtcNow(Shutdown.AddDays(-29));
        await Task.Delay(300);
        var notice = (await registry.GetCardAsync(model.Id)).Warnings;
        fixture.Clock.SetUtcNow(Shutdown.AddDays(-6));
        await Task.Delay(300);
        var urgent = (await registry.GetCardAsync(model.Id)).Warnings;
        // Day by day to an hour before the date: the daily reminder ticks, and on the last day is re-armed for the date.
        for (var at = Shutdown.AddDays(-5); at < Shutdown; at = at.AddDays(1))
        {
            fixture.Clock.SetUtcNow(at);
            await Task.Delay(300);
        }
        fixture.Clock.SetUtcNow(Shutdown.AddHours(-1));
        await Task.Delay(300);
        var eve = await grain.GetAsync(org);
        var eveAnswer = Resolver.Resolve(await deployments.SubscribeAsync(observer), agent.Id, "c-1", fixture.Clock.GetUtcNow());
        fixture.Clock.SetUtcNow(Shutdown);
        // The reminder was re-armed for the date itself; on a loaded machine its re-arming may land after the clock moved,
        // so the clock goes on in 10-minute steps until the reminder has retired the model (never by a read: reads only look).
        for (var step = 0; (await grain.GetAsync(org)).Status != ModelStatus.Retired && step < 144; step++)
        {
            await Task.Delay(300);
            if ((await grain.GetAsync(org)).Status != ModelStatus.Retired)
            {
                fixture.Clock.Advance(TimeSpan.FromMinutes(10));
            }
        }
        // The model tells the registry after its own state is kept: the default clears a moment later.
        await Eventually.Async(async () => await registry.GetDefaultAsync() is null, TimeSpan.FromSeconds(10), "a retired default is cleared");
        var retired = await registry.GetCardAsync(model.Id);
        ResolvedModel? afterAnswer = null;
        await Eventually.Async(async () => (afterAnswer = Resolver.Resolve(await deployments.SubscribeAsync(observer), agent.Id, "c-1", fixture.Clock.GetUtcNow())).FellBack,
            TimeSpan.FromSeconds(10), "the retired model leaves resolution's snapshot");

        farAhead.Should().BeEmpty("38 days ahead is not yet worth a warning");
        notice.Should().ContainSingle().Which.Should().StartWith("openai/gpt-4o-mini-2024-07-18 shuts down on 2027-01-14 (in 29 days)");
        urgent.Should().ContainSingle().Which.Should().StartWith("Urgent: openai/gpt-4o-mini-2024-07-18 shuts down on 2027-01-14 (in 6 days)");
        eve.Status.Should().Be(ModelStatus.Active, "an hour before the date it still serves");
        (eveAnswer.FellBack, eveAnswer.ModelId).Should().Be((false, model.Id));
        afterAnswer!.FallbackReason.Should().Be("model retired");
        afterAnswer.Provider.Should().Be("together", "its traffic goes to the agent's base model");
        retired.Model.Status.Should().Be(ModelStatus.Retired);
        retired.Model.RetiredAt.Should().BeOnOrAfter(Shutdown).And.BeBefore(Shutdown.AddDays(1), "the reminder retires the model on the shutdown date");
        retired.Warnings.Should().ContainSingle().Which.Should().StartWith("Retired on 2027-01-14");
        retired.IsDefault.Should().BeFalse("a retired default is cleared");
        (await registry.GetDefaultAsync()).Should().BeNull();
        var moveBack = await FluentActions.Awaiting(() => grain.UpdateAsync(org, new ModelUpdate(null, null, ModelStatus.Active))).Should().ThrowAsync<ObjectaLabs.Orleans.Problems.ProblemException>();
        moveBack.Which.Message.Should().Contain("from retired it can become: deleted");
    }
}

/// <summary>An observer for tests that read snapshots by subscribing and do not need the pushes.</summary>
internal sealed class IgnoredPushes : IResolutionObserver
{
    public Task ChangedAsync(ResolutionSnapshot snapshot) => Task.CompletedTask;
}
