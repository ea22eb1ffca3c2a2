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
}
