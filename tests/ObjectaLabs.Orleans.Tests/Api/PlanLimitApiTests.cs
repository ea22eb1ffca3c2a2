using System.Net;
using System.Net.Http.Json;
using ObjectaLabs.Orleans.Tests.Infrastructure;

namespace ObjectaLabs.Orleans.Tests.Api;

[Collection(ApiCollection.Name)]
public sealed class PlanLimitApiTests(ApiFixture fixture)
{
    private static object Example(string question) => new
    {
        example = new
        {
            messages = new object[]
            {
                new { role = "user", content = question },
                new { role = "assistant", content = "An answer to " + question },
            },
        },
    };

    [Fact]
    public async Task A_plan_limit_names_the_limit_the_plan_and_its_value_and_lifts_with_the_plan()
    {
        var (id, key) = await fixture.CreateOrganizationAsync("free");
        using var admin = fixture.Client(key);
        using var platform = fixture.PlatformClient();

        var refused = await (await admin.PostAsJsonAsync($"/v1/organizations/{id}/examples", Example("Q1")))
            .ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        await (await platform.PutAsJsonAsync($"/v1/organizations/{id}/plan", new { plan = "professional" })).ReadJsonAsync();
        var accepted = await admin.PostAsJsonAsync($"/v1/organizations/{id}/examples", Example("Q1"));

        refused.GetProperty("type").GetString().Should().Be("urn:objectalabs:problem:plan-limit");
        refused.GetProperty("plan").GetString().Should().Be("free");
        refused.GetProperty("limit").GetString().Should().Be("maxTrainingExamples");
        refused.GetProperty("allowed").GetInt64().Should().Be(0);
        refused.GetProperty("current").GetInt64().Should().Be(0);
        refused.GetProperty("requested").GetInt64().Should().Be(1);
        accepted.StatusCode.Should().Be(HttpStatusCode.Created, await accepted.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_downgrade_below_current_use_is_refused_with_the_figures_and_changes_nothing()
    {
        var (id, key) = await fixture.CreateOrganizationAsync("business");
        using var admin = fixture.Client(key);
        using var platform = fixture.PlatformClient();
        for (var i = 0; i < 2; i++)
        {
            (await admin.PostAsJsonAsync($"/v1/organizations/{id}/examples", Example($"Q{i}"))).StatusCode.Should().Be(HttpStatusCode.Created);
        }

        var refused = await (await platform.PutAsJsonAsync($"/v1/organizations/{id}/plan", new { plan = "free" }))
            .ShouldBeProblemAsync(HttpStatusCode.Forbidden);

        refused.GetProperty("limit").GetString().Should().Be("maxTrainingExamples");
        refused.GetProperty("allowed").GetInt64().Should().Be(0);
        refused.GetProperty("current").GetInt64().Should().Be(2);
        var organization = await (await admin.GetAsync($"/v1/organizations/{id}")).ReadJsonAsync();
        organization.GetProperty("plan").GetProperty("name").GetString().Should().Be("business");
    }

    [Fact]
    public async Task An_upload_larger_than_the_plan_could_store_is_stopped_with_the_figures_dry_run_or_not()
    {
        var (id, key) = await fixture.CreateOrganizationAsync("professional");
        using var admin = fixture.Client(key);
        var lines = string.Concat(Enumerable.Range(0, 20_000).Select(i =>
            System.Text.Json.JsonSerializer.Serialize(new { messages = new[] { new { role = "user", content = $"Q{i}" }, new { role = "assistant", content = $"A{i}" } } }) + "\n"));

        foreach (var dryRun in new[] { true, false })
        {
            using var body = new StringContent(lines, System.Text.Encoding.UTF8, "application/jsonl");
            var refused = await (await admin.PostAsync($"/v1/organizations/{id}/examples/uploads?dryRun={dryRun}", body)).ShouldBeProblemAsync(HttpStatusCode.Forbidden);

            refused.GetProperty("limit").GetString().Should().Be("maxTrainingExamples");
            refused.GetProperty("allowed").GetInt64().Should().Be(500);
            refused.GetProperty("requested").GetInt64().Should().BeGreaterThan(500).And.BeLessThan(20_000, "reading stopped early");
            refused.GetProperty("detail").GetString().Should().Contain("Reading stopped");
        }
        var listed = await (await admin.GetAsync($"/v1/organizations/{id}/examples")).ReadJsonAsync();
        listed.GetProperty("counts").GetProperty("pending").GetInt32().Should().Be(0);
    }

    [Fact]
    public async Task A_downgrade_racing_uploads_never_leaves_an_organization_above_its_plan()
    {
        using var platform = fixture.PlatformClient();
        static string Lines(string prefix, int count) => string.Concat(Enumerable.Range(0, count).Select(i =>
            System.Text.Json.JsonSerializer.Serialize(new { messages = new[] { new { role = "user", content = $"{prefix}{i}" }, new { role = "assistant", content = "ok" } } }) + "\n"));
        for (var round = 0; round < 4; round++)
        {
            var (id, key) = await fixture.CreateOrganizationAsync("business");
            using var admin = fixture.Client(key);
            (await admin.PostAsync($"/v1/organizations/{id}/examples/uploads", new StringContent(Lines("base", 300), System.Text.Encoding.UTF8, "application/jsonl")))
                .StatusCode.Should().Be(HttpStatusCode.OK);

            // Professional allows 500: the organization holds 300 and two uploads add 150 each.
            var uploads = new[] { "a", "b" }.Select(p => admin.PostAsync($"/v1/organizations/{id}/examples/uploads",
                new StringContent(Lines(p + round, 150), System.Text.Encoding.UTF8, "application/jsonl"))).ToList();
            var downgrade = platform.PutAsJsonAsync($"/v1/organizations/{id}/plan", new { plan = "professional" });
            var answers = await Task.WhenAll(uploads.Append(downgrade));

            answers.Should().OnlyContain(r => (int)r.StatusCode < 500, "a race is refused with a 4xx, never a 5xx");
            var organization = await (await admin.GetAsync($"/v1/organizations/{id}")).ReadJsonAsync();
            var plan = organization.GetProperty("plan");
            var stored = (await (await admin.GetAsync($"/v1/organizations/{id}/examples?limit=1")).ReadJsonAsync()).GetProperty("counts").GetProperty("pending").GetInt32();
            if (plan.GetProperty("name").GetString() == "professional")
            {
                stored.Should().BeLessThanOrEqualTo(500, $"round {round}: the downgrade went through, so its limit holds");
            }
        }
    }
}
