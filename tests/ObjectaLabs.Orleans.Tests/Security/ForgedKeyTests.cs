using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using ObjectaLabs.Orleans.Tests.Infrastructure;
using Orleans.Runtime;

namespace ObjectaLabs.Orleans.Tests.Security;

/// <summary>
/// Keys not known to be valid are limited per client address before any grain call; known valid keys never
/// are. Each test runs its own API process-equivalent so its limiter starts full and is its own.
/// </summary>
[Collection(ApiCollection.Name)]
public sealed class ForgedKeyTests(ApiFixture fixture)
{
    private const string Alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

    [Fact]
    public async Task A_flood_of_forged_keys_from_one_address_costs_at_most_the_limiters_allowance_and_valid_keys_keep_working()
    {
        const int permitsPerSecond = 10, burst = 50, forged = 20_000;
        var api = await fixture.StartApiAsync(new Dictionary<string, string?>
        {
            ["RateLimits:UnverifiedKeys:PermitsPerSecond"] = permitsPerSecond.ToString(),
            ["RateLimits:UnverifiedKeys:Burst"] = burst.ToString(),
            // Valid keys are re-checked against their grain every second, during the flood too.
            ["Auth:KeyCacheSeconds"] = "1",
        });
        var (orgId, adminKey) = await fixture.CreateOrganizationAsync();
        using var admin = fixture.Client(adminKey, api);
        var second = await (await admin.PostAsJsonAsync($"/v1/organizations/{orgId}/api-keys", new { name = "second", scope = "admin" }))
            .ReadJsonAsync(HttpStatusCode.Created);
        using var secondAdmin = fixture.Client(second.GetProperty("key").GetString(), api);
        (await secondAdmin.GetAsync($"/v1/organizations/{orgId}")).StatusCode.Should().Be(HttpStatusCode.OK);
        var realKeyId = adminKey.Split('_')[2];
        var before = await OrganizationActivationsAsync();
        before.Should().BeGreaterThan(0, "the count must see organization grains (the real one is active)");

        using var attacker = new HttpClient { BaseAddress = api, Timeout = TimeSpan.FromSeconds(30) };
        var forgedStatuses = new ConcurrentDictionary<HttpStatusCode, int>();
        var validStatuses = new ConcurrentBag<HttpStatusCode>();
        using var flooding = new CancellationTokenSource();
        var clock = Stopwatch.StartNew();
        var valid = Task.Run(async () =>
        {
            // The admin's own calls, from the same address, all the while.
            for (var i = 0; !flooding.IsCancellationRequested; i++)
            {
                var client = i % 2 == 0 ? admin : secondAdmin;
                validStatuses.Add((await client.GetAsync($"/v1/organizations/{orgId}")).StatusCode);
                await Task.Delay(50);
            }
        });
        await Parallel.ForEachAsync(Enumerable.Range(0, forged), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, ct) =>
        {
            // Half name random organizations; half the real one, with its real key id or a random one, and a random secret.
            var org = i % 2 == 0 ? Guid.NewGuid() : orgId;
            var keyId = i % 4 == 1 ? realKeyId : RandomNumberGenerator.GetString("0123456789abcdefghijklmnopqrstuvwxyz", 10);
            var key = $"olk_{org:N}_{keyId}_{RandomNumberGenerator.GetString(Alphabet, 40)}";
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/organizations/{org}");
            request.Headers.Authorization = new("Bearer", key);
            using var response = await attacker.SendAsync(request, ct);
            forgedStatuses.AddOrUpdate(response.StatusCode, 1, (_, n) => n + 1);
        });
        var elapsed = clock.Elapsed;
        await flooding.CancelAsync();
        await valid;
        var grown = await OrganizationActivationsAsync() - before;

        var allowance = burst + (int)Math.Ceiling(elapsed.TotalSeconds + 1) * permitsPerSecond;
        forgedStatuses.Keys.Should().OnlyContain(s => s == HttpStatusCode.Unauthorized || s == HttpStatusCode.TooManyRequests,
            $"forged keys are refused or limited, never anything else ({Describe(forgedStatuses)})");
        forgedStatuses.GetValueOrDefault(HttpStatusCode.Unauthorized).Should().BeLessThanOrEqualTo(allowance,
            $"only keys that got a permit reach a grain ({elapsed.TotalSeconds:F1} s)");
        forgedStatuses.GetValueOrDefault(HttpStatusCode.TooManyRequests).Should().BeGreaterThan(forged / 2);
        grown.Should().BeLessThanOrEqualTo(allowance, $"{grown} organization grains were activated in {elapsed.TotalSeconds:F1} s");
        validStatuses.Should().NotBeEmpty().And.OnlyContain(s => s == HttpStatusCode.OK, "a known valid key is never slowed by the flood");
    }

    [Fact]
    public async Task A_forged_key_naming_an_organization_that_does_not_exist_is_refused_from_memory_for_that_id()
    {
        var api = await fixture.StartApiAsync(new Dictionary<string, string?>
        {
            ["RateLimits:UnverifiedKeys:PermitsPerSecond"] = "1",
            ["RateLimits:UnverifiedKeys:Burst"] = "1",
        });
        using var client = new HttpClient { BaseAddress = api };
        var missing = Guid.NewGuid();

        var first = await GetAsync(client, missing, ForgedKey(missing));
        var sameOrganizationOtherSecrets = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            sameOrganizationOtherSecrets.Add(await GetAsync(client, missing, ForgedKey(missing)));
        }
        var otherOrganizations = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            var other = Guid.NewGuid();
            otherOrganizations.Add(await GetAsync(client, other, ForgedKey(other)));
        }

        first.Should().Be(HttpStatusCode.Unauthorized);
        sameOrganizationOtherSecrets.Should().OnlyContain(s => s == HttpStatusCode.Unauthorized,
            "'no such organization' is remembered per organization id, whatever the rest of the key");
        otherOrganizations.Count(s => s == HttpStatusCode.TooManyRequests).Should().BeGreaterThanOrEqualTo(3,
            "other unknown organizations need a permit, and the bucket holds one a second");
    }

    [Fact]
    public async Task Refusals_never_push_a_valid_key_out_of_memory_and_a_throttled_answer_says_when_to_retry()
    {
        var api = await fixture.StartApiAsync(new Dictionary<string, string?>
        {
            ["RateLimits:UnverifiedKeys:PermitsPerSecond"] = "1",
            ["RateLimits:UnverifiedKeys:Burst"] = "20",
            ["Auth:RefusalCacheSize"] = "2",
            ["Auth:ValidKeyCacheSize"] = "2",
        });
        var (orgId, adminKey) = await fixture.CreateOrganizationAsync();
        using var admin = fixture.Client(adminKey, api);
        (await admin.GetAsync($"/v1/organizations/{orgId}")).StatusCode.Should().Be(HttpStatusCode.OK);
        using var attacker = new HttpClient { BaseAddress = api };
        var forgedStatuses = new List<HttpStatusCode>();
        for (var i = 0; i < 40; i++)
        {
            var org = i % 2 == 0 ? orgId : Guid.NewGuid();
            forgedStatuses.Add(await GetAsync(attacker, org, ForgedKey(org)));
        }
        using var throttled = await SendAsync(attacker, orgId, ForgedKey(orgId));

        forgedStatuses.Should().Contain(HttpStatusCode.TooManyRequests, "the bucket of 20 is spent");
        (await admin.GetAsync($"/v1/organizations/{orgId}")).StatusCode.Should().Be(HttpStatusCode.OK,
            "the valid key is known; dozens of refusals in caches of two entries did not evict it");
        var problem = await throttled.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests);
        throttled.Headers.RetryAfter!.Delta!.Value.TotalSeconds.Should().BeGreaterThanOrEqualTo(1);
        problem.GetProperty("retryAfterSeconds").GetInt32().Should().BeGreaterThanOrEqualTo(1);
    }

    private static string ForgedKey(Guid organizationId) =>
        $"olk_{organizationId:N}_{RandomNumberGenerator.GetString("0123456789abcdefghijklmnopqrstuvwxyz", 10)}_{RandomNumberGenerator.GetString(Alphabet, 40)}";

    private static async Task<HttpStatusCode> GetAsync(HttpClient client, Guid organizationId, string key)
    {
        using var response = await SendAsync(client, organizationId, key);
        return response.StatusCode;
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient client, Guid organizationId, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/organizations/{organizationId}");
        request.Headers.Authorization = new("Bearer", key);
        return client.SendAsync(request);
    }

    private static string Describe(IReadOnlyDictionary<HttpStatusCode, int> statuses) =>
        string.Join(", ", statuses.Select(s => $"{(int)s.Key}: {s.Value}"));

    private async Task<int> OrganizationActivationsAsync()
    {
        var management = fixture.Silo.Services.GetRequiredService<IGrainFactory>().GetGrain<IManagementGrain>(0);
        var statistics = await management.GetSimpleGrainStatistics();
        return statistics.Where(s => s.GrainType.EndsWith(".OrganizationGrain", StringComparison.Ordinal)
                || s.GrainType.Contains(".OrganizationGrain,", StringComparison.Ordinal))
            .Sum(s => s.ActivationCount);
    }
}
