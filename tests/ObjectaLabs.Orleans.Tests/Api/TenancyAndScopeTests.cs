using System.Net;
using System.Net.Http.Json;
using ObjectaLabs.Orleans.Tests.Infrastructure;

namespace ObjectaLabs.Orleans.Tests.Api;

[Collection(ApiCollection.Name)]
public sealed class TenancyAndScopeTests(ApiFixture fixture)
{
    [Fact]
    public async Task Another_organizations_resources_answer_404_as_if_they_did_not_exist()
    {
        var (a, keyA) = await fixture.CreateOrganizationAsync();
        var (b, keyB) = await fixture.CreateOrganizationAsync();
        using var asB = fixture.Client(keyB);
        var agentOfB = await (await asB.PostAsJsonAsync($"/v1/organizations/{b}/agents", new { name = "B's bot" })).ReadJsonAsync(HttpStatusCode.Created);
        var agentId = agentOfB.GetProperty("id").GetGuid();
        using var asA = fixture.Client(keyA);

        await (await asA.GetAsync($"/v1/organizations/{b}")).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await asA.GetAsync($"/v1/organizations/{b}/agents")).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await asA.GetAsync($"/v1/organizations/{b}/agents/{agentId}")).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await asA.GetAsync($"/v1/organizations/{b}/api-keys")).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await asA.DeleteAsync($"/v1/organizations/{b}/agents/{agentId}")).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        // B's agent id under A's own path is simply not one of A's agents.
        await (await asA.GetAsync($"/v1/organizations/{a}/agents/{agentId}")).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await asA.PatchAsJsonAsync($"/v1/organizations/{a}/agents/{agentId}", new { name = "stolen" })).ShouldBeProblemAsync(HttpStatusCode.NotFound);

        var stillThere = await (await asB.GetAsync($"/v1/organizations/{b}/agents/{agentId}")).ReadJsonAsync();
        stillThere.GetProperty("name").GetString().Should().Be("B's bot");
    }

    [Fact]
    public async Task A_runtime_key_on_an_admin_route_is_forbidden()
    {
        var (id, adminKey) = await fixture.CreateOrganizationAsync();
        using var admin = fixture.Client(adminKey);
        var issued = await (await admin.PostAsJsonAsync($"/v1/organizations/{id}/api-keys", new { name = "runtime", scope = "runtime" }))
            .ReadJsonAsync(HttpStatusCode.Created);
        using var runtime = fixture.Client(issued.GetProperty("key").GetString());

        var problem = await (await runtime.GetAsync($"/v1/organizations/{id}/agents")).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        await (await runtime.PostAsJsonAsync($"/v1/organizations/{id}/api-keys", new { name = "escalate", scope = "admin" }))
            .ShouldBeProblemAsync(HttpStatusCode.Forbidden);

        problem.GetProperty("detail").GetString().Should().Contain("admin");
        var keys = await (await admin.GetAsync($"/v1/organizations/{id}/api-keys")).ReadJsonAsync();
        keys.GetArrayLength().Should().Be(2, "the runtime key could not issue itself an admin key");
    }

    [Fact]
    public async Task A_revoked_key_is_refused_at_once_and_listed_as_revoked()
    {
        var (id, adminKey) = await fixture.CreateOrganizationAsync();
        using var admin = fixture.Client(adminKey);
        var issued = await (await admin.PostAsJsonAsync($"/v1/organizations/{id}/api-keys", new { name = "ci", scope = "admin" }))
            .ReadJsonAsync(HttpStatusCode.Created);
        var keyId = issued.GetProperty("info").GetProperty("id").GetString();
        using var second = fixture.Client(issued.GetProperty("key").GetString());
        (await second.GetAsync($"/v1/organizations/{id}")).StatusCode.Should().Be(HttpStatusCode.OK);

        var revoked = await (await admin.DeleteAsync($"/v1/organizations/{id}/api-keys/{keyId}")).ReadJsonAsync();

        revoked.GetProperty("revokedAt").ValueKind.Should().Be(System.Text.Json.JsonValueKind.String);
        await (await second.GetAsync($"/v1/organizations/{id}")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        var listed = await (await admin.GetAsync($"/v1/organizations/{id}/api-keys")).ReadJsonAsync();
        var entry = listed.EnumerateArray().Single(k => k.GetProperty("id").GetString() == keyId);
        entry.GetProperty("prefix").GetString().Should().StartWith($"olk_{id:N}_{keyId}");
        entry.GetProperty("lastUsedAt").ValueKind.Should().Be(System.Text.Json.JsonValueKind.String);
        await (await admin.DeleteAsync($"/v1/organizations/{id}/api-keys/nope")).ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_key_for_a_forged_organization_id_is_refused()
    {
        var (id, adminKey) = await fixture.CreateOrganizationAsync();
        var (other, _) = await fixture.CreateOrganizationAsync();
        // Same key id and secret, but claiming the other organization: its grain has no such key.
        var forged = adminKey.Replace(id.ToString("N"), other.ToString("N"), StringComparison.Ordinal);
        using var client = fixture.Client(forged);

        await (await client.GetAsync($"/v1/organizations/{other}")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Agents_can_be_created_listed_updated_and_archived()
    {
        var (id, key) = await fixture.CreateOrganizationAsync();
        using var admin = fixture.Client(key);

        var created = await (await admin.PostAsJsonAsync($"/v1/organizations/{id}/agents",
            new { name = "Support", defaultBaseModel = "openai/gpt-4o-mini-2024-07-18" })).ReadJsonAsync(HttpStatusCode.Created);
        var agentId = created.GetProperty("id").GetGuid();
        var updated = await (await admin.PatchAsJsonAsync($"/v1/organizations/{id}/agents/{agentId}", new { name = "Support v2" })).ReadJsonAsync();
        var list = await (await admin.GetAsync($"/v1/organizations/{id}/agents")).ReadJsonAsync();
        var archived = await (await admin.DeleteAsync($"/v1/organizations/{id}/agents/{agentId}")).ReadJsonAsync();

        updated.GetProperty("name").GetString().Should().Be("Support v2");
        updated.GetProperty("defaultBaseModel").GetString().Should().Be("openai/gpt-4o-mini-2024-07-18", "a PATCH leaves absent fields alone");
        list.GetArrayLength().Should().Be(1);
        archived.GetProperty("archivedAt").ValueKind.Should().Be(System.Text.Json.JsonValueKind.String);
        (await (await admin.GetAsync($"/v1/organizations/{id}/agents")).ReadJsonAsync()).GetArrayLength().Should().Be(0, "archived agents leave the listing");
        (await (await admin.GetAsync($"/v1/organizations/{id}/agents?includeArchived=true")).ReadJsonAsync()).GetArrayLength().Should().Be(1);
        (await (await admin.GetAsync($"/v1/organizations/{id}/agents/{agentId}")).ReadJsonAsync()).GetProperty("name").GetString().Should().Be("Support v2");
        await (await admin.PatchAsJsonAsync($"/v1/organizations/{id}/agents/{agentId}", new { name = "Back" })).ShouldBeProblemAsync(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task A_revocation_made_through_one_API_process_is_seen_by_another_within_its_key_cache_time()
    {
        var other = await fixture.StartApiAsync(new Dictionary<string, string?> { ["Auth:KeyCacheSeconds"] = "1" });
        var (id, adminKey) = await fixture.CreateOrganizationAsync();
        using var admin = fixture.Client(adminKey);
        var issued = await (await admin.PostAsJsonAsync($"/v1/organizations/{id}/api-keys", new { name = "elsewhere", scope = "admin" }))
            .ReadJsonAsync(HttpStatusCode.Created);
        using var viaOther = fixture.Client(issued.GetProperty("key").GetString(), other);
        (await viaOther.GetAsync($"/v1/organizations/{id}")).StatusCode.Should().Be(HttpStatusCode.OK, "the other process now knows the key as valid");

        await (await admin.DeleteAsync($"/v1/organizations/{id}/api-keys/{issued.GetProperty("info").GetProperty("id").GetString()}")).ReadJsonAsync();

        await Eventually.Async(async () =>
        {
            using var response = await viaOther.GetAsync($"/v1/organizations/{id}");
            return response.StatusCode == HttpStatusCode.Unauthorized;
        }, TimeSpan.FromSeconds(15), "the other process re-checks a known key every Auth:KeyCacheSeconds and then refuses it");
    }
}
