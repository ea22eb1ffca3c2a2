using ObjectaLabs.Orleans.Models;
using ObjectaLabs.Orleans.Problems;
using ObjectaLabs.Orleans.Tests.Infrastructure;

namespace ObjectaLabs.Orleans.Tests.Models;

[Collection(ClusterCollection.Name)]
public sealed class ModelRegistryTests(ClusterFixture fixture)
{
    private static ModelRegistration Registration(Guid organizationId, string name) => new(
        organizationId, Guid.NewGuid(), AgentId: null, name, Version: 99, "sandbox", "ft:sandbox-simulated:x",
        "sandbox/small", "hash", TrainingExamples: 10, ValidationExamples: 2, Simulated: true, DateTimeOffset.UtcNow);

    /// <summary>A real organization: a model's row references its organization's.</summary>
    private async Task<Guid> NewOrganizationAsync()
    {
        var id = Guid.NewGuid();
        await fixture.Grains.GetGrain<ObjectaLabs.Orleans.Organizations.IOrganizationGrain>(id).CreateAsync("Models Ltd", "business");
        return id;
    }

    [Fact]
    public async Task Versions_count_per_line_and_a_retried_registration_keeps_its_version()
    {
        var organizationId = await NewOrganizationAsync();
        var registry = fixture.Grains.GetGrain<IModelRegistryGrain>(organizationId);
        var first = Registration(organizationId, "Customer Support Model");

        var v1 = await registry.RegisterAsync(first);
        var other = await registry.RegisterAsync(Registration(organizationId, "Sales Model"));
        var v2 = await registry.RegisterAsync(Registration(organizationId, "customer support model"));
        await fixture.Cluster.DeactivateAsync(registry);
        var retried = await registry.RegisterAsync(first);

        v1.Version.Should().Be(1, "the version in the registration is ignored");
        other.Version.Should().Be(1);
        v2.Version.Should().Be(2, "lines are matched without regard to case");
        retried.Should().Be(v1);
        v1.Id.Should().Be(ModelIds.ForJob(first.JobId));
        (await registry.ListModelIdsAsync()).Should().Equal(v1.Id, other.Id, v2.Id);
        await using var connection = await fixture.Database.DataSource.OpenConnectionAsync();
        var rows = await Dapper.SqlMapper.QueryAsync<(string Name, int Version)>(connection,
            "SELECT name, version FROM fine_tuned_models WHERE organization_id = @organizationId ORDER BY created_at, name", new { organizationId });
        rows.Should().BeEquivalentTo([("Customer Support Model", 1), ("Sales Model", 1), ("customer support model", 2)],
            "each model grain writes its fine_tuned_models row, once");
    }

    [Fact]
    public async Task A_model_is_not_found_for_another_organization()
    {
        var organizationId = await NewOrganizationAsync();
        var model = await fixture.Grains.GetGrain<IModelRegistryGrain>(organizationId).RegisterAsync(Registration(organizationId, "Mine"));

        var read = async () => await fixture.Grains.GetGrain<IFineTunedModelGrain>(model.Id).GetAsync(Guid.NewGuid());

        (await read.Should().ThrowAsync<ProblemException>()).Which.Kind.Should().Be(ProblemKind.NotFound);
        (await fixture.Grains.GetGrain<IFineTunedModelGrain>(model.Id).GetAsync(organizationId)).Name.Should().Be("Mine");
    }

    [Fact]
    public async Task Status_moves_follow_the_lifecycle_and_a_refused_move_changes_nothing()
    {
        var organizationId = await NewOrganizationAsync();
        var model = await fixture.Grains.GetGrain<IModelRegistryGrain>(organizationId).RegisterAsync(Registration(organizationId, "Lifecycle"));
        var grain = fixture.Grains.GetGrain<IFineTunedModelGrain>(model.Id);
        async Task<ModelStatus> MoveAsync(ModelStatus to) => (await grain.UpdateAsync(organizationId, new ModelUpdate(null, null, to))).Status;

        var seen = new List<ModelStatus>
        {
            await MoveAsync(ModelStatus.Deprecated), await MoveAsync(ModelStatus.Active), await MoveAsync(ModelStatus.Archived),
        };
        var archivedToDeprecated = await FluentActions.Awaiting(() => MoveAsync(ModelStatus.Deprecated)).Should().ThrowAsync<ProblemException>();
        seen.Add(await MoveAsync(ModelStatus.Active));
        seen.Add(await MoveAsync(ModelStatus.Deleted));
        var restoreDeleted = await FluentActions.Awaiting(() => MoveAsync(ModelStatus.Active)).Should().ThrowAsync<ProblemException>();
        await fixture.Cluster.DeactivateAsync(grain);

        seen.Should().Equal(ModelStatus.Deprecated, ModelStatus.Active, ModelStatus.Archived, ModelStatus.Active, ModelStatus.Deleted);
        archivedToDeprecated.Which.Kind.Should().Be(ProblemKind.Conflict);
        archivedToDeprecated.Which.Message.Should().Contain("from archived it can become: active, deleted");
        restoreDeleted.Which.Message.Should().Contain("nothing (it is final)");
        (await grain.GetAsync(organizationId)).Status.Should().Be(ModelStatus.Deleted, "the refusal left the stored state as it was");
        ModelStatus.Active.Serves().Should().BeTrue();
        ModelStatus.Deprecated.Serves().Should().BeTrue();
        new[] { ModelStatus.Archived, ModelStatus.Deleted, ModelStatus.Retired }.Should().OnlyContain(s => !s.Serves());
        await using var connection = await fixture.Database.DataSource.OpenConnectionAsync();
        (await Dapper.SqlMapper.ExecuteScalarAsync<string>(connection, "SELECT status FROM fine_tuned_models WHERE id = @Id", new { model.Id })).Should().Be("deleted");
    }

    [Fact]
    public async Task Only_an_active_model_becomes_the_default_and_a_default_that_stops_serving_is_cleared()
    {
        var organizationId = await NewOrganizationAsync();
        var registry = fixture.Grains.GetGrain<IModelRegistryGrain>(organizationId);
        var first = await registry.RegisterAsync(Registration(organizationId, "Default"));
        var second = await registry.RegisterAsync(Registration(organizationId, "Default"));
        await fixture.Grains.GetGrain<IFineTunedModelGrain>(second.Id).UpdateAsync(organizationId, new ModelUpdate(null, null, ModelStatus.Deprecated));

        (await registry.SetDefaultAsync(first.Id)).Should().Be(first.Id);
        var deprecated = await FluentActions.Awaiting(() => registry.SetDefaultAsync(second.Id)).Should().ThrowAsync<ProblemException>();
        var foreign = await FluentActions.Awaiting(() => registry.SetDefaultAsync(Guid.NewGuid())).Should().ThrowAsync<ProblemException>();
        var cards = await registry.ListCardsAsync(includeDeleted: false);
        await fixture.Grains.GetGrain<IFineTunedModelGrain>(first.Id).UpdateAsync(organizationId, new ModelUpdate(null, null, ModelStatus.Archived));

        deprecated.Which.Kind.Should().Be(ProblemKind.Conflict);
        deprecated.Which.Extensions["modelStatus"].Should().Be("deprecated");
        foreign.Which.Kind.Should().Be(ProblemKind.NotFound);
        cards.Select(c => (c.Model.Id, c.IsDefault)).Should().Equal((first.Id, true), (second.Id, false));
        cards[1].Warnings.Should().ContainSingle().Which.Should().StartWith("Deprecated");
        cards.Should().OnlyContain(c => c.Usage.Requests == 0 && c.Usage.CostUsd == 0m && c.Usage.Satisfaction == null && c.Usage.Since.Day == 1, "no usage was reported");
        (await registry.GetDefaultAsync()).Should().BeNull("archiving the default cleared it");
        await using var connection = await fixture.Database.DataSource.OpenConnectionAsync();
        (await Dapper.SqlMapper.ExecuteScalarAsync<int>(connection, "SELECT count(*)::int FROM fine_tuned_models WHERE organization_id = @organizationId AND is_default", new { organizationId }))
            .Should().Be(0);
    }

    [Fact]
    public async Task A_rename_onto_a_taken_name_and_version_is_refused_and_a_description_is_kept()
    {
        var organizationId = await NewOrganizationAsync();
        var registry = fixture.Grains.GetGrain<IModelRegistryGrain>(organizationId);
        var support = await registry.RegisterAsync(Registration(organizationId, "Support"));
        var sales = await registry.RegisterAsync(Registration(organizationId, "Sales"));
        var grain = fixture.Grains.GetGrain<IFineTunedModelGrain>(sales.Id);

        var taken = await FluentActions.Awaiting(() => grain.UpdateAsync(organizationId, new ModelUpdate("Support", "x", null))).Should().ThrowAsync<ProblemException>();
        var control = await FluentActions.Awaiting(() => grain.UpdateAsync(organizationId, new ModelUpdate("Bad\u0001name", null, null))).Should().ThrowAsync<ProblemException>();
        var renamed = await grain.UpdateAsync(organizationId, new ModelUpdate("  Sales EMEA ", "Trained on EMEA tickets.", null));
        var foreign = await FluentActions.Awaiting(() => grain.UpdateAsync(Guid.NewGuid(), new ModelUpdate("Mine", null, null))).Should().ThrowAsync<ProblemException>();

        taken.Which.Kind.Should().Be(ProblemKind.Conflict);
        taken.Which.Field.Should().Be("name");
        control.Which.Field.Should().Be("name");
        (renamed.Name, renamed.Description, renamed.Version).Should().Be(("Sales EMEA", "Trained on EMEA tickets.", 1));
        foreign.Which.Kind.Should().Be(ProblemKind.NotFound);
        (await fixture.Grains.GetGrain<IFineTunedModelGrain>(support.Id).GetAsync(organizationId)).Name.Should().Be("Support");
    }
}
