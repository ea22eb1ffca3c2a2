using System.Net;
using System.Text.Json;
using ObjectaLabs.Orleans.Tests.Infrastructure;

namespace ObjectaLabs.Orleans.Tests.Api;

/// <summary>The OpenAPI document is a contract: walked operation by operation, every problem the pipeline can give is listed.</summary>
[Collection(ApiCollection.Name)]
public sealed class OpenApiContractTests(ApiFixture fixture)
{
    private static readonly string[] Methods = ["get", "post", "put", "patch", "delete"];

    [Fact]
    public async Task Every_operation_lists_the_problem_responses_it_can_give_as_problem_json()
    {
        using var client = fixture.Client();
        var document = await (await client.GetAsync("/openapi/v1.json")).ReadJsonAsync();
        var missing = new List<string>();
        var operations = 0;

        foreach (var path in document.GetProperty("paths").EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject().Where(o => Methods.Contains(o.Name)))
            {
                operations++;
                var responses = operation.Value.GetProperty("responses");
                var expected = new List<int> { 400, 503 };
                if (path.Name.StartsWith("/v1/", StringComparison.Ordinal))
                {
                    expected.AddRange([401, 403, 429]);
                }
                if (path.Name.Contains('{', StringComparison.Ordinal))
                {
                    expected.Add(404);
                }
                if (operation.Value.TryGetProperty("requestBody", out _))
                {
                    expected.AddRange([413, 415]);
                }
                foreach (var status in expected)
                {
                    if (!responses.TryGetProperty(status.ToString(), out var response))
                    {
                        missing.Add($"{operation.Name.ToUpperInvariant()} {path.Name}: no {status}");
                    }
                    else if (!response.TryGetProperty("content", out var content) || !content.TryGetProperty("application/problem+json", out _))
                    {
                        missing.Add($"{operation.Name.ToUpperInvariant()} {path.Name}: {status} is not problem+json");
                    }
                }
            }
        }

        operations.Should().BeGreaterThan(20);
        missing.Should().BeEmpty();
    }

    [Fact]
    public async Task The_dashboard_is_not_in_the_document_and_the_reference_opens_on_our_routes()
    {
        using var client = fixture.Client();
        var document = await (await client.GetAsync("/openapi/v1.json")).ReadJsonAsync();
        var paths = document.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();

        paths.Should().NotContain(p => p.StartsWith("/dashboard", StringComparison.Ordinal));
        paths.First().Should().StartWith("/v1/");
    }

    [Fact]
    public async Task A_declared_problem_is_what_the_route_answers()
    {
        // Spot checks that the declared classes are real: 404 for another organization, 415 for a wrong media type.
        var (id, key) = await fixture.CreateOrganizationAsync();
        using var client = fixture.Client(key);

        var notFound = await client.GetAsync($"/v1/organizations/{Guid.NewGuid()}/agents");
        var wrongMedia = await client.PostAsync($"/v1/organizations/{id}/agents", new StringContent("name=x", System.Text.Encoding.UTF8, "text/plain"));

        (await notFound.ShouldBeProblemAsync(HttpStatusCode.NotFound)).ValueKind.Should().Be(JsonValueKind.Object);
        (await wrongMedia.ShouldBeProblemAsync(HttpStatusCode.UnsupportedMediaType)).ValueKind.Should().Be(JsonValueKind.Object);
    }
}
