using System.Net;
using System.Net.Http.Json;
using ObjectaLabs.Orleans.Tests.Infrastructure;

namespace ObjectaLabs.Orleans.Tests.Api;

[Collection(ApiCollection.Name)]
public sealed class OrganizationsApiTests(ApiFixture fixture)
{
    [Fact]
    public async Task Platform_admin_creates_an_organization_and_gets_its_first_admin_key_once()
    {
        using var platform = fixture.PlatformClient();

        var response = await platform.PostAsJsonAsync("/v1/organizations", new { name = "Acme Support", plan = "professional" });

        var body = await response.ReadJsonAsync(HttpStatusCode.Created);
        var id = body.GetProperty("organization").GetProperty("id").GetGuid();
        response.Headers.Location!.ToString().Should().Be($"/v1/organizations/{id}");
        body.GetProperty("organization").GetProperty("plan").GetProperty("name").GetString().Should().Be("professional");
        body.GetProperty("organization").GetProperty("plan").GetProperty("maxTrainingExamples").GetInt32().Should().Be(500);
        var key = body.GetProperty("adminKey").GetProperty("key").GetString()!;
        key.Should().StartWith($"olk_{id:N}_");
        body.GetProperty("adminKey").GetProperty("info").GetProperty("scope").GetString().Should().Be("admin");

        using var org = fixture.Client(key);
        var own = await (await org.GetAsync($"/v1/organizations/{id}")).ReadJsonAsync();
        own.GetProperty("name").GetString().Should().Be("Acme Support");
        var keys = await (await org.GetAsync($"/v1/organizations/{id}/api-keys")).ReadJsonAsync();
        keys.GetArrayLength().Should().Be(1);
        keys[0].TryGetProperty("key", out _).Should().BeFalse("a key's secret is shown once, at creation");
    }

    [Fact]
    public async Task Creating_an_organization_needs_the_platform_key()
    {
        var (_, orgKey) = await fixture.CreateOrganizationAsync();
        using var anonymous = fixture.Client();
        using var organization = fixture.Client(orgKey);
        using var wrong = fixture.Client("olp_not_the_admin_key_at_all_000000");

        var none = await anonymous.PostAsJsonAsync("/v1/organizations", new { name = "X", plan = "free" });
        var asOrg = await organization.PostAsJsonAsync("/v1/organizations", new { name = "X", plan = "free" });
        var bad = await wrong.PostAsJsonAsync("/v1/organizations", new { name = "X", plan = "free" });

        await none.ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        none.Headers.WwwAuthenticate.Should().NotBeEmpty();
        await asOrg.ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        await bad.ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Unknown_plan_or_blank_name_is_a_problem_naming_the_field_and_creates_nothing()
    {
        using var platform = fixture.PlatformClient();
        var before = await (await platform.GetAsync("/v1/organizations?limit=200")).ReadJsonAsync();

        var unknownPlan = await (await platform.PostAsJsonAsync("/v1/organizations", new { name = "Acme", plan = "platinum" }))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        var blankName = await (await platform.PostAsJsonAsync("/v1/organizations", new { name = "  ", plan = "free" }))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        var missingPlan = await (await platform.PostAsJsonAsync("/v1/organizations", new { name = "Acme" }))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest);

        unknownPlan.GetProperty("field").GetString().Should().Be("plan");
        unknownPlan.GetProperty("detail").GetString().Should().Contain("platinum").And.Contain("enterprise");
        blankName.GetProperty("field").GetString().Should().Be("name");
        missingPlan.GetProperty("field").GetString().Should().Be("plan");
        var after = await (await platform.GetAsync("/v1/organizations?limit=200")).ReadJsonAsync();
        after.GetProperty("items").GetArrayLength().Should().Be(before.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task Plan_changes_are_for_the_platform_admin_and_take_effect()
    {
        var (id, orgKey) = await fixture.CreateOrganizationAsync("free");
        using var platform = fixture.PlatformClient();
        using var organization = fixture.Client(orgKey);

        var byOrg = await organization.PutAsJsonAsync($"/v1/organizations/{id}/plan", new { plan = "enterprise" });
        var byPlatform = await platform.PutAsJsonAsync($"/v1/organizations/{id}/plan", new { plan = "enterprise" });

        await byOrg.ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        (await byPlatform.ReadJsonAsync()).GetProperty("plan").GetProperty("name").GetString().Should().Be("enterprise");
        var seen = await (await organization.GetAsync($"/v1/organizations/{id}")).ReadJsonAsync();
        seen.GetProperty("plan").GetProperty("name").GetString().Should().Be("enterprise");
        seen.GetProperty("plan").GetProperty("maxFineTunedModels").ValueKind.Should().Be(System.Text.Json.JsonValueKind.Null, "enterprise is unlimited");
        var unknown = await platform.PutAsJsonAsync($"/v1/organizations/{Guid.NewGuid()}/plan", new { plan = "business" });
        await unknown.ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task The_platform_list_pages_with_a_cursor()
    {
        for (var i = 0; i < 3; i++)
        {
            await fixture.CreateOrganizationAsync();
        }
        using var platform = fixture.PlatformClient();

        var first = await (await platform.GetAsync("/v1/organizations?limit=2")).ReadJsonAsync();
        var cursor = first.GetProperty("nextCursor").GetString();
        var second = await (await platform.GetAsync($"/v1/organizations?limit=2&cursor={Uri.EscapeDataString(cursor!)}")).ReadJsonAsync();

        first.GetProperty("items").GetArrayLength().Should().Be(2);
        var firstIds = first.GetProperty("items").EnumerateArray().Select(o => o.GetProperty("id").GetGuid()).ToList();
        var secondIds = second.GetProperty("items").EnumerateArray().Select(o => o.GetProperty("id").GetGuid()).ToList();
        secondIds.Should().NotBeEmpty().And.NotIntersectWith(firstIds);
        await (await platform.GetAsync("/v1/organizations?cursor=garbage")).ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        await (await platform.GetAsync("/v1/organizations?limit=0")).ShouldBeProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Plans_are_listed_from_configuration_data()
    {
        var (_, key) = await fixture.CreateOrganizationAsync();
        using var client = fixture.Client(key);

        var plans = await (await client.GetAsync("/v1/plans")).ReadJsonAsync();

        plans.EnumerateArray().Select(p => p.GetProperty("name").GetString()).Should().Equal("free", "professional", "business", "enterprise");
        var business = plans.EnumerateArray().Single(p => p.GetProperty("name").GetString() == "business");
        business.GetProperty("maxFineTunedModels").GetInt32().Should().Be(3);
        business.GetProperty("maxTrainingExamples").GetInt32().Should().Be(2000);
        business.GetProperty("abTesting").GetBoolean().Should().BeTrue();
        plans.EnumerateArray().Single(p => p.GetProperty("name").GetString() == "free").GetProperty("fineTuning").GetBoolean().Should().BeFalse();
    }
}
