using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using ObjectaLabs.Orleans.Api.Resolution;
using ObjectaLabs.Orleans.Tests.Infrastructure;

namespace ObjectaLabs.Orleans.Tests.Security;

/// <summary>
/// Keys checked from the memory of each API process (the organization's resolution snapshot lists its active keys), kept
/// current by push: a revocation made through one API host stops the key on another within a second.
/// </summary>
[Collection(ApiCollection.Name)]
public sealed class HeldKeyTests(ApiFixture fixture)
{
    [Fact]
    public async Task A_key_revoked_on_one_api_host_is_refused_by_another_within_a_second_and_keys_checked_from_memory_report_their_use()
    {
        var (org, adminKey) = await fixture.CreateOrganizationAsync();
        using var admin = fixture.Client(adminKey);
        async Task<(string Id, string Key)> IssueAsync(string name)
        {
            var issued = await (await admin.PostAsJsonAsync($"/v1/organizations/{org}/api-keys", new { name, scope = "admin" })).ReadJsonAsync(HttpStatusCode.Created);
            return (issued.GetProperty("info").GetProperty("id").GetString()!, issued.GetProperty("key").GetString()!);
        }
        var doomed = await IssueAsync("doomed");
        var quiet = await IssueAsync("quiet");
        var second = await fixture.StartApiAsync(new Dictionary<string, string?>());
        var cache = fixture.ApiServices(second).GetRequiredService<ResolutionCache>();
        using var doomedOnTwo = fixture.Client(doomed.Key, second);
        var orgPath = $"/v1/organizations/{org}";

        // The first valid check goes to the organization grain and makes the host hold the organization.
        var firstUse = await doomedOnTwo.GetAsync(orgPath);
        await Eventually.Async(() => Task.FromResult(cache.TryGetHeld(org, out var held) && held.Lists(quiet.Id)), TimeSpan.FromSeconds(5),
            "a valid key makes the API host hold its organization");

        // A key checked from memory makes no grain call: its last-used time appears only once the renewal reports it.
        using var quietOnTwo = fixture.Client(quiet.Key, second);
        var fromMemory = await quietOnTwo.GetAsync(orgPath);
        var beforeReport = await LastUsedAsync(admin, org, quiet.Id);
        await cache.RenewAsync(CancellationToken.None);
        var afterReport = await LastUsedAsync(admin, org, quiet.Id);

        // A wrong secret for a listed key id is refused from memory.
        using var wrongSecret = fixture.Client(doomed.Key[..^4] + "AAAA", second);
        var wrong = await wrongSecret.GetAsync(orgPath);

        // A key issued a moment ago through the first host works on the second at once (checked against the grain until the push lists it).
        var fresh = await IssueAsync("fresh");
        using var freshOnTwo = fixture.Client(fresh.Key, second);
        var freshAnswer = await freshOnTwo.GetAsync(orgPath);

        (await admin.DeleteAsync($"{orgPath}/api-keys/{doomed.Id}")).StatusCode.Should().Be(HttpStatusCode.OK);
        var revokedAt = Stopwatch.StartNew();
        HttpStatusCode status;
        while ((status = (await doomedOnTwo.GetAsync(orgPath)).StatusCode) == HttpStatusCode.OK && revokedAt.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(20);
        }
        var propagation = revokedAt.Elapsed;
        using var doomedOnOne = fixture.Client(doomed.Key);
        var onOne = await doomedOnOne.GetAsync(orgPath);

        firstUse.StatusCode.Should().Be(HttpStatusCode.OK);
        fromMemory.StatusCode.Should().Be(HttpStatusCode.OK);
        beforeReport.Should().BeNull("a key checked from memory reaches no grain per request");
        afterReport.Should().NotBeNull("the renewal reports keys checked from memory to their organization");
        wrong.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        freshAnswer.StatusCode.Should().Be(HttpStatusCode.OK);
        status.Should().Be(HttpStatusCode.Unauthorized);
        propagation.Should().BeLessThan(TimeSpan.FromSeconds(1), "a revocation reaches every API process holding the organization within one second");
        onOne.StatusCode.Should().Be(HttpStatusCode.Unauthorized, "the host that revoked refuses the key at once");
    }

    private static async Task<DateTimeOffset?> LastUsedAsync(HttpClient admin, Guid org, string keyId)
    {
        var keys = await (await admin.GetAsync($"/v1/organizations/{org}/api-keys")).ReadJsonAsync();
        var key = keys.EnumerateArray().Single(k => k.GetProperty("id").GetString() == keyId);
        return key.GetProperty("lastUsedAt").ValueKind == JsonValueKind.Null ? null : key.GetProperty("lastUsedAt").GetDateTimeOffset();
    }
}
