using System.Net;
using System.Net.Http.Headers;
using System.Text;
using ObjectaLabs.Orleans.Tests.Infrastructure;

namespace ObjectaLabs.Orleans.Tests.Api;

[Collection(ApiCollection.Name)]
public sealed class PlatformSurfaceTests(ApiFixture fixture)
{
    [Fact]
    public async Task Health_live_and_ready_answer_when_the_cluster_and_database_do()
    {
        using var client = fixture.Client();

        var live = await client.GetAsync("/health/live");
        var ready = await client.GetAsync("/health/ready");

        live.StatusCode.Should().Be(HttpStatusCode.OK);
        ready.StatusCode.Should().Be(HttpStatusCode.OK, await ready.Content.ReadAsStringAsync());
        (await ready.Content.ReadAsStringAsync()).Should().Be("Healthy");
    }

    [Fact]
    public async Task The_OpenAPI_document_and_reference_page_are_served()
    {
        using var client = fixture.Client();

        var document = await (await client.GetAsync("/openapi/v1.json")).ReadJsonAsync();
        var page = await client.GetAsync("/scalar/v1");

        var paths = document.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        paths.Should().Contain(["/v1/organizations", "/v1/organizations/{orgId}/api-keys", "/v1/organizations/{orgId}/agents/{agentId}"]);
        document.GetProperty("components").GetProperty("securitySchemes").GetProperty("apiKey").GetProperty("scheme").GetString().Should().Be("bearer");
        page.StatusCode.Should().Be(HttpStatusCode.OK);
        (await page.Content.ReadAsStringAsync()).Should().Contain("openapi/v1.json");
    }

    [Fact]
    public async Task The_dashboard_is_open_only_with_the_platform_admin_key()
    {
        var (_, orgKey) = await fixture.CreateOrganizationAsync();
        using var anonymous = fixture.Client();
        using var organization = fixture.Client(orgKey);
        using var browser = fixture.Client();
        browser.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes("operator:" + fixture.AdminKey)));

        var none = await anonymous.GetAsync("/dashboard/");
        var asOrg = await organization.GetAsync("/dashboard/");
        var asAdmin = await browser.GetAsync("/dashboard/");
        var counters = await browser.GetAsync("/dashboard/DashboardCounters");
        var countersAnonymous = await anonymous.GetAsync("/dashboard/DashboardCounters");

        none.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        none.Headers.WwwAuthenticate.ToString().Should().Contain("Basic", "a browser can then ask for the key");
        asOrg.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        asAdmin.StatusCode.Should().Be(HttpStatusCode.OK);
        (await asAdmin.Content.ReadAsStringAsync()).Should().Contain("Orleans Dashboard");
        counters.StatusCode.Should().Be(HttpStatusCode.OK);
        countersAnonymous.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task HTTP_Basic_counts_only_under_the_dashboard_so_cached_browser_credentials_cannot_reach_the_API()
    {
        var (orgId, orgKey) = await fixture.CreateOrganizationAsync();
        using var basicAdmin = fixture.Client();
        basicAdmin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes("operator:" + fixture.AdminKey)));
        using var basicOrg = fixture.Client();
        basicOrg.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes("x:" + orgKey)));
        using var bearerOrg = fixture.Client(orgKey);

        var platformRoute = await basicAdmin.GetAsync("/v1/organizations");
        var orgRoute = await basicOrg.GetAsync($"/v1/organizations/{orgId}");
        var sameWithBearer = await bearerOrg.GetAsync($"/v1/organizations/{orgId}");
        var dashboard = await basicAdmin.GetAsync("/dashboard/");

        platformRoute.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        platformRoute.Headers.WwwAuthenticate.ToString().Should().NotContain("Basic", "outside the dashboard a browser must not be invited to send Basic");
        (await platformRoute.Content.ReadAsStringAsync()).Should().Contain("only for the dashboard");
        orgRoute.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        sameWithBearer.StatusCode.Should().Be(HttpStatusCode.OK);
        dashboard.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Each_key_is_rate_limited_with_a_429_and_Retry_After()
    {
        var tight = await fixture.StartApiAsync(new Dictionary<string, string?>
        {
            ["RateLimits:Admin:PermitsPerSecond"] = "1",
            ["RateLimits:Admin:Burst"] = "3",
        });
        var (id, keyA) = await fixture.CreateOrganizationAsync();
        var (other, keyB) = await fixture.CreateOrganizationAsync();
        using var a = fixture.Client(keyA, tight);
        using var b = fixture.Client(keyB, tight);

        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? limited = null;
        for (var i = 0; i < 10 && limited is null; i++)
        {
            var response = await a.GetAsync($"/v1/organizations/{id}");
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                limited = response;
            }
        }

        limited.Should().NotBeNull($"statuses were {string.Join(",", statuses)}");
        var problem = await limited!.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests);
        limited.Headers.RetryAfter!.Delta!.Value.TotalSeconds.Should().BeGreaterThanOrEqualTo(1);
        problem.GetProperty("retryAfterSeconds").GetInt32().Should().BeGreaterThanOrEqualTo(1);
        (await b.GetAsync($"/v1/organizations/{other}")).StatusCode.Should().Be(HttpStatusCode.OK, "another key has its own bucket");
    }
}
