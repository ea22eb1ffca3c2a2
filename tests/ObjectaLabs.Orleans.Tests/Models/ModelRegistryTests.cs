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

    [Fact]
    public async Task Versions_count_per_line_and_a_retried_registration_keeps_its_version()
    {
        var organizationId = Guid.NewGuid();
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
    }

    [Fact]
    public async Task A_model_is_not_found_for_another_organization()
    {
        var organizationId = Guid.NewGuid();
        var model = await fixture.Grains.GetGrain<IModelRegistryGrain>(organizationId).RegisterAsync(Registration(organizationId, "Mine"));

        var read = async () => await fixture.Grains.GetGrain<IFineTunedModelGrain>(model.Id).GetAsync(Guid.NewGuid());

        (await read.Should().ThrowAsync<ProblemException>()).Which.Kind.Should().Be(ProblemKind.NotFound);
        (await fixture.Grains.GetGrain<IFineTunedModelGrain>(model.Id).GetAsync(organizationId)).Name.Should().Be("Mine");
    }
}
