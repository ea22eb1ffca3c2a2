using System.Net;
using System.Text;
using ObjectaLabs.Orleans.Tests.Infrastructure;

namespace ObjectaLabs.Orleans.Tests.Api;

[Collection(ApiCollection.Name)]
public sealed class RequestErrorTests(ApiFixture fixture)
{
    private static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    [Fact]
    public async Task Malformed_json_is_a_400_problem_naming_the_line()
    {
        var (id, key) = await fixture.CreateOrganizationAsync();
        using var client = fixture.Client(key);

        var response = await client.PostAsync($"/v1/organizations/{id}/agents", Json("{\n  \"name\": \"Bot\",\n  \"defaultBaseModel\": \n}"));

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        problem.GetProperty("title").GetString().Should().Be("Malformed JSON");
        problem.GetProperty("line").GetInt32().Should().Be(4);
        problem.GetProperty("field").GetString().Should().Be("$.defaultBaseModel");
        var agents = await (await client.GetAsync($"/v1/organizations/{id}/agents")).ReadJsonAsync();
        agents.GetArrayLength().Should().Be(0, "a rejected request leaves nothing behind");
    }

    [Fact]
    public async Task A_wrong_type_an_unknown_enum_or_an_unknown_property_names_the_field()
    {
        var (id, key) = await fixture.CreateOrganizationAsync();
        using var client = fixture.Client(key);

        var wrongType = await (await client.PostAsync($"/v1/organizations/{id}/agents", Json("{\"name\": 42}")))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        var badScope = await (await client.PostAsync($"/v1/organizations/{id}/api-keys", Json("{\"name\": \"k\", \"scope\": \"root\"}")))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        var unknown = await (await client.PostAsync($"/v1/organizations/{id}/agents", Json("{\"name\": \"Bot\", \"model\": \"x\"}")))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest);

        wrongType.GetProperty("field").GetString().Should().Be("$.name");
        badScope.GetProperty("field").GetString().Should().Be("$.scope");
        unknown.GetProperty("detail").GetString().Should().Contain("model");
    }

    [Fact]
    public async Task An_oversize_body_is_a_413_problem()
    {
        var (id, key) = await fixture.CreateOrganizationAsync();
        using var client = fixture.Client(key);
        var huge = "{\"name\": \"" + new string('a', 200_000) + "\"}";

        var response = await client.PostAsync($"/v1/organizations/{id}/agents", Json(huge));

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.RequestEntityTooLarge);
        problem.GetProperty("title").GetString().Should().ContainEquivalentOf("too large");
    }

    [Fact]
    public async Task A_missing_body_or_wrong_media_type_is_a_4xx_problem()
    {
        var (id, key) = await fixture.CreateOrganizationAsync();
        using var client = fixture.Client(key);

        var empty = await client.PostAsync($"/v1/organizations/{id}/agents", Json(""));
        var text = await client.PostAsync($"/v1/organizations/{id}/agents", new StringContent("{\"name\":\"x\"}", Encoding.UTF8, "text/plain"));

        var emptyProblem = await empty.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        var textProblem = await text.ShouldBeProblemAsync(HttpStatusCode.UnsupportedMediaType);
        emptyProblem.GetProperty("detail").GetString().Should().Contain("request body is empty").And.NotContain("Implicit body");
        emptyProblem.GetProperty("field").GetString().Should().Be("$");
        textProblem.GetProperty("detail").GetString().Should().Contain("application/json").And.Contain("text/plain");
    }

    [Theory]
    [InlineData("examples?limit=abc", "limit", "whole number")]
    [InlineData("examples?agentId=not-a-uuid", "agentId", "UUID")]
    [InlineData("examples/split?validationRatio=lots", "validationRatio", "a number")]
    [InlineData("examples/quality?validatedOnly=maybe", "validatedOnly", "true or false")]
    public async Task A_query_parameter_of_the_wrong_type_is_named_in_our_words(string route, string parameter, string expected)
    {
        var (id, key) = await fixture.CreateOrganizationAsync();
        using var client = fixture.Client(key);

        var problem = await (await client.GetAsync($"/v1/organizations/{id}/{route}")).ShouldBeProblemAsync(HttpStatusCode.BadRequest);

        problem.GetProperty("field").GetString().Should().Be(parameter);
        problem.GetProperty("detail").GetString().Should().Contain(expected).And.NotContain("Failed to bind");
    }

    [Fact]
    public async Task A_query_parameter_of_the_right_type_is_accepted()
    {
        var (id, key) = await fixture.CreateOrganizationAsync();
        using var client = fixture.Client(key);

        var response = await client.GetAsync($"/v1/organizations/{id}/examples?limit=5&agentId={Guid.NewGuid()}");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task An_agent_default_model_must_be_in_the_catalog()
    {
        var (id, key) = await fixture.CreateOrganizationAsync();
        using var client = fixture.Client(key);

        var problem = await (await client.PostAsync($"/v1/organizations/{id}/agents", Json("{\"name\": \"Bot\", \"defaultBaseModel\": \"openai/gpt-5-ultra\"}")))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        var accepted = await (await client.PostAsync($"/v1/organizations/{id}/agents", Json("{\"name\": \"Bot\", \"defaultBaseModel\": \"OpenAI/GPT-4o-mini-2024-07-18\"}")))
            .ReadJsonAsync(HttpStatusCode.Created);

        problem.GetProperty("field").GetString().Should().Be("defaultBaseModel");
        problem.GetProperty("detail").GetString().Should().Contain("openai/gpt-5-ultra");
        accepted.GetProperty("defaultBaseModel").GetString().Should().Be("openai/gpt-4o-mini-2024-07-18", "ids are stored as the catalog spells them");
    }

    [Fact]
    public async Task Too_long_a_name_is_refused_with_the_field()
    {
        var (id, key) = await fixture.CreateOrganizationAsync();
        using var client = fixture.Client(key);

        var response = await client.PostAsync($"/v1/organizations/{id}/agents", Json($"{{\"name\": \"{new string('n', 201)}\"}}"));

        (await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest)).GetProperty("field").GetString().Should().Be("name");
    }

    [Theory]
    [InlineData("""{"name":"Acme\u0000Evil"}""")]
    [InlineData("""{"name":"Acme\ud800Evil"}""")]
    public async Task A_rename_to_text_that_cannot_be_stored_is_refused_and_changes_nothing(string body)
    {
        var (id, key) = await fixture.CreateOrganizationAsync(name: "Before Rename");
        using var client = fixture.Client(key);

        var refused = await client.PatchAsync($"/v1/organizations/{id}", Json(body));
        var accepted = await client.PatchAsync($"/v1/organizations/{id}", Json("""{"name":"After Rename"}"""));
        var refusedAgain = await client.PatchAsync($"/v1/organizations/{id}", Json(body));
        var after = await client.GetStringAsync($"/v1/organizations/{id}");

        var problem = await refused.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        problem.GetProperty("detail").GetString().Should().Contain("name");
        accepted.StatusCode.Should().Be(HttpStatusCode.OK);
        await refusedAgain.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        after.Should().Contain("After Rename").And.NotContain("Evil");
    }
}
