using Dapper;
using ObjectaLabs.Orleans.Diagnostics;
using ObjectaLabs.Orleans.Organizations;
using ObjectaLabs.Orleans.Problems;
using ObjectaLabs.Orleans.Tests.Infrastructure;

namespace ObjectaLabs.Orleans.Tests.Cluster;

[Collection(ClusterCollection.Name)]
public sealed class GrainPersistenceTests(ClusterFixture fixture)
{
    [Fact]
    public async Task Organization_state_survives_deactivation_through_the_AdoNet_store()
    {
        var grain = fixture.Grains.GetGrain<IOrganizationGrain>(Guid.NewGuid());
        await grain.CreateAsync("Acme", "business");
        var agent = await grain.AddAgentAsync("Support bot", "openai/gpt-4o-mini-2024-07-18");

        await fixture.Cluster.DeactivateAsync(grain);
        var after = await grain.GetAsync();

        after.Name.Should().Be("Acme");
        after.Plan.Name.Should().Be("business");
        (await grain.GetAgentAsync(agent.Id)).DefaultBaseModel.Should().Be("openai/gpt-4o-mini-2024-07-18");
        await using var connection = await fixture.Database.DataSource.OpenConnectionAsync();
        var stored = await connection.ExecuteScalarAsync<string>(
            "SELECT convert_from(payloadbinary, 'UTF8') FROM orleansstorage WHERE graintypestring LIKE '%organization%' AND convert_from(payloadbinary, 'UTF8') LIKE '%Acme%' LIMIT 1");
        stored.Should().Contain("\"Name\":\"Acme\"", "state is stored as System.Text.Json without CLR type names")
            .And.NotContain("$type");
    }

    [Fact]
    public async Task Organization_rows_mirror_the_grain_for_foreign_keys()
    {
        var id = Guid.NewGuid();
        var grain = fixture.Grains.GetGrain<IOrganizationGrain>(id);
        await grain.CreateAsync("Rows Inc", "professional");
        var agent = await grain.AddAgentAsync("Bot", null);
        await grain.ChangePlanAsync("enterprise");

        await using var connection = await fixture.Database.DataSource.OpenConnectionAsync();
        (await connection.QuerySingleAsync<string>("SELECT plan FROM organizations WHERE id = @id", new { id })).Should().Be("enterprise");
        (await connection.ExecuteScalarAsync<Guid>("SELECT organization_id FROM agents WHERE id = @id", new { id = agent.Id })).Should().Be(id);

        var archived = await grain.ArchiveAgentAsync(agent.Id);
        archived.ArchivedAt.Should().NotBeNull();
        (await connection.ExecuteScalarAsync<DateTime?>("SELECT archived_at FROM agents WHERE id = @id", new { id = agent.Id }))
            .Should().NotBeNull("an archived agent keeps its row, marked archived");
    }

    [Fact]
    public async Task Domain_problems_cross_the_cluster_with_their_field_and_figures()
    {
        var grain = fixture.Grains.GetGrain<IOrganizationGrain>(Guid.NewGuid());

        var unknownPlan = () => grain.CreateAsync("Acme", "platinum");
        var missing = async () => await grain.GetAsync();

        (await unknownPlan.Should().ThrowAsync<ProblemException>()).Which.Field.Should().Be("plan");
        (await missing.Should().ThrowAsync<ProblemException>()).Which.Kind.Should().Be(ProblemKind.NotFound);
    }

    [Fact]
    public async Task Api_keys_authenticate_until_revoked_and_only_with_the_exact_secret()
    {
        var id = Guid.NewGuid();
        var grain = fixture.Grains.GetGrain<IOrganizationGrain>(id);
        var created = await grain.CreateAsync("Keys Ltd", "business");
        var runtime = await grain.IssueApiKeyAsync("runtime", ApiKeyScope.Runtime);
        ApiKeyFormat.TryParse(runtime.Key, out var orgInKey, out var parsedKeyId).Should().BeTrue();
        var keyId = parsedKeyId!;
        orgInKey.Should().Be(id);

        (await grain.AuthenticateAsync(keyId, ApiKeyFormat.Hash(runtime.Key))).Identity!.Scope.Should().Be(ApiKeyScope.Runtime);
        var lastCharChanged = runtime.Key[..^1] + (runtime.Key[^1] == 'x' ? 'y' : 'x');
        (await grain.AuthenticateAsync(keyId, ApiKeyFormat.Hash(lastCharChanged))).Should().Be(new ApiKeyCheck(ApiKeyCheckOutcome.Rejected, null));
        (await fixture.Grains.GetGrain<IOrganizationGrain>(Guid.NewGuid()).AuthenticateAsync(keyId, ApiKeyFormat.Hash(runtime.Key)))
            .Outcome.Should().Be(ApiKeyCheckOutcome.UnknownOrganization);

        await grain.RevokeApiKeyAsync(keyId);
        (await grain.AuthenticateAsync(keyId, ApiKeyFormat.Hash(runtime.Key))).Outcome.Should().Be(ApiKeyCheckOutcome.Rejected);
        var keys = await grain.ListApiKeysAsync();
        keys.Should().HaveCount(2);
        keys.Single(k => k.Id == keyId).RevokedAt.Should().NotBeNull();
        var secrets = new[] { runtime.Key[^40..], created.AdminKey.Key[^40..] };
        keys.Select(k => k.Prefix).Should().NotContain(p => secrets.Any(p.Contains), "a listed key never shows its secret");
    }

    [Fact]
    public async Task A_reminder_lives_in_the_AdoNet_reminder_table_while_it_runs_and_leaves_it_when_stopped()
    {
        var key = $"probe-{Guid.NewGuid():N}";
        var probe = fixture.Grains.GetGrain<IReminderProbeGrain>(key);
        await probe.StartAsync(TimeSpan.FromMilliseconds(500));
        try
        {
            // The row the ADO.NET provider wrote: an in-memory reminder service would leave the table empty.
            var row = await ReminderRowAsync(key);
            row.Should().NotBeNull("the running reminder is a row in orleansreminderstable");
            row!.Period.Should().Be(500);
            await Eventually.Async(async () => (await probe.GetReportAsync()).Ticks >= 2, TimeSpan.FromSeconds(30));
            (await ReminderRowAsync(key)).Should().NotBeNull("the row stays while the reminder fires");
        }
        finally
        {
            await probe.StopAsync();
        }

        (await ReminderRowAsync(key)).Should().BeNull("StopAsync removed the row through the provider");
        (await probe.GetReportAsync()).Ticks.Should().BeGreaterThanOrEqualTo(2);
    }

    private sealed record ReminderRow(string GrainId, long Period);

    private async Task<ReminderRow?> ReminderRowAsync(string probeKey)
    {
        await using var connection = await fixture.Database.DataSource.OpenConnectionAsync();
        return await connection.QuerySingleOrDefaultAsync<ReminderRow>(
            "SELECT grainid, period FROM orleansreminderstable WHERE serviceid = @serviceId AND remindername = 'probe' AND grainid LIKE '%' || @probeKey",
            new { serviceId = fixture.Cluster.Options.ServiceId, probeKey });
    }

    [Fact]
    public async Task A_revocation_whose_write_fails_changes_nothing_in_memory_or_in_storage()
    {
        var id = Guid.NewGuid();
        var grain = fixture.Grains.GetGrain<IOrganizationGrain>(id);
        await grain.CreateAsync("Failing Writes Ltd", "business");
        var runtime = await grain.IssueApiKeyAsync("runtime", ApiKeyScope.Runtime);
        ApiKeyFormat.TryParse(runtime.Key, out _, out var keyId).Should().BeTrue();
        await using var connection = await fixture.Database.DataSource.OpenConnectionAsync();
        // Another writer moved the stored version on: the grain's next write is refused by the ETag check.
        var bumped = await connection.ExecuteAsync(
            "UPDATE orleansstorage SET version = version + 1 WHERE graintypestring LIKE '%organization%' AND convert_from(payloadbinary, 'UTF8') LIKE '%Failing Writes Ltd%'");
        bumped.Should().Be(1);

        var revoke = async () => await grain.RevokeApiKeyAsync(keyId!);

        await revoke.Should().ThrowAsync<global::Orleans.Storage.InconsistentStateException>();
        (await grain.AuthenticateAsync(keyId!, ApiKeyFormat.Hash(runtime.Key))).Outcome.Should().Be(ApiKeyCheckOutcome.Valid, "the refused revocation must not linger in memory");
        (await grain.ListApiKeysAsync()).Single(k => k.Id == keyId).RevokedAt.Should().BeNull();
    }

    [Fact]
    public async Task Revoked_keys_are_pruned_so_key_rotation_never_grows_the_organization_without_bound()
    {
        var grain = fixture.Grains.GetGrain<IOrganizationGrain>(Guid.NewGuid());
        await grain.CreateAsync("Rotating Ltd", "business");
        string? lastRevoked = null;
        for (var i = 0; i < 105; i++)
        {
            var issued = await grain.IssueApiKeyAsync($"rotation {i}", ApiKeyScope.Runtime);
            lastRevoked = (await grain.RevokeApiKeyAsync(issued.Info.Id)).Id;
        }

        var keys = await grain.ListApiKeysAsync();

        keys.Count(k => k.RevokedAt is not null).Should().Be(100, "only the newest revoked keys are kept");
        keys.Should().Contain(k => k.Id == lastRevoked, "the most recent revocation is still listed");
        keys.Count(k => k.RevokedAt is null).Should().Be(1, "the active admin key is never pruned");
    }
}
