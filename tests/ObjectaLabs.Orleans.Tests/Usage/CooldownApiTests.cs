using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ObjectaLabs.Orleans.Tests.Infrastructure;
using Xunit.Abstractions;

namespace ObjectaLabs.Orleans.Tests.Usage;

/// <summary>
/// A model that fails cools down: reported through one API host, seen by another (its own Orleans client and snapshot),
/// then tried again (half-open): a failure cools it down again, a success closes the breaker. The fixture's silo cools a
/// model down after 10 requests of which half failed, for 3 s.
/// </summary>
[Collection(ApiCollection.Name)]
public sealed class CooldownApiTests(ApiFixture fixture, ITestOutputHelper output)
{
    private const string Mini = "openai/gpt-4o-mini-2024-07-18";
    private const string Fallback = "sandbox/sandbox-small";

    [Fact]
    public async Task A_failing_model_cools_down_on_every_api_host_falls_back_half_opens_and_recovers()
    {
        var (org, adminKey) = await fixture.CreateOrganizationAsync("business");
        using var admin = fixture.Client(adminKey);
        var agent = (await (await admin.PostAsJsonAsync($"/v1/organizations/{org}/agents", new { name = "Bot", defaultBaseModel = Fallback }))
            .ReadJsonAsync(HttpStatusCode.Created)).GetProperty("id").GetGuid();
        await (await admin.PutAsJsonAsync($"/v1/organizations/{org}/agents/{agent}/deployment",
            new { model = new { baseModel = Mini }, fallback = new { baseModel = Fallback } })).ReadJsonAsync();
        var key = (await (await admin.PostAsJsonAsync($"/v1/organizations/{org}/api-keys", new { name = "runtime", scope = "runtime" })).ReadJsonAsync(HttpStatusCode.Created))
            .GetProperty("key").GetString();
        using var one = fixture.Client(key);
        using var two = fixture.Client(key, await fixture.StartApiAsync(new Dictionary<string, string?>()));
        var resolve = $"/v1/organizations/{org}/agents/{agent}/resolve?subject=c-1";
        async Task<JsonElement> ResolveOnTwoAsync() => await (await two.GetAsync(resolve)).ReadJsonAsync();
        async Task ReportAsync(int successes, int failures)
        {
            var events = Enumerable.Range(0, successes + failures).Select(i => new
            {
                baseModel = Mini,
                inputTokens = 10,
                outputTokens = 10,
                latencyMs = 100,
                success = i < successes,
                timestamp = DateTimeOffset.UtcNow,
            });
            (await one.PostAsJsonAsync($"/v1/organizations/{org}/usage", new { batchId = Guid.NewGuid(), events })).StatusCode.Should().Be(HttpStatusCode.Accepted);
        }

        var before = await ResolveOnTwoAsync();
        await ReportAsync(successes: 4, failures: 6);
        var reported = Stopwatch.StartNew();
        JsonElement cooling = default;
        await Eventually.Async(async () => (cooling = await ResolveOnTwoAsync()).GetProperty("fellBack").GetBoolean(), TimeSpan.FromSeconds(5),
            "the cool-down reaches the other API host by push");
        var propagation = reported.Elapsed;
        await Eventually.Async(async () => !(await ResolveOnTwoAsync()).GetProperty("fellBack").GetBoolean(), TimeSpan.FromSeconds(8),
            "after its cool-down the model is tried again (half-open) with no report in between");
        var halfOpen = reported.Elapsed;
        await ReportAsync(successes: 0, failures: 1);
        await Eventually.Async(async () => (await ResolveOnTwoAsync()).GetProperty("fellBack").GetBoolean(), TimeSpan.FromSeconds(5),
            "a failure while half-open cools the model down again");
        await Eventually.Async(async () => !(await ResolveOnTwoAsync()).GetProperty("fellBack").GetBoolean(), TimeSpan.FromSeconds(8), "half-open again");
        await ReportAsync(successes: 1, failures: 0);
        // Judged on its own (reports forwarded together are judged together): 12 requests so far, the success the last.
        await Eventually.Async(async () => (await (await admin.GetAsync($"/v1/organizations/{org}/usage/metrics?baseModel={Uri.EscapeDataString(Mini)}")).ReadJsonAsync())
            .GetProperty("total").GetProperty("requests").GetInt64() == 12, TimeSpan.FromSeconds(5), "the success is forwarded");
        await ReportAsync(successes: 0, failures: 9); // closed with an empty window: 9 requests are below the minimum of 10
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var recovered = await ResolveOnTwoAsync();
        output.WriteLine($"cool-down seen by the other host {propagation.TotalMilliseconds:F0} ms after the report was accepted; half-open after {halfOpen.TotalSeconds:F1} s");

        before.GetProperty("name").GetString().Should().Be(Mini);
        before.GetProperty("fellBack").GetBoolean().Should().BeFalse();
        cooling.GetProperty("name").GetString().Should().Be(Fallback);
        cooling.GetProperty("fallbackReason").GetString().Should().StartWith("cooling down after failures until ");
        recovered.GetProperty("name").GetString().Should().Be(Mini, "a success while half-open closed the breaker, and 9 failures are below its minimum");
        recovered.GetProperty("fellBack").GetBoolean().Should().BeFalse();
    }
}
