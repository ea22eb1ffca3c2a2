using System.Net;
using System.Net.Http.Json;
using System.Text;
using ObjectaLabs.Orleans.Tests.Infrastructure;

namespace ObjectaLabs.Orleans.Tests.Api;

/// <summary>
/// Text PostgreSQL cannot store and values of the wrong JSON type are refused at the boundary, by class: every
/// query parameter and every string or property name of any JSON body; each rule with a refused and an accepted case.
/// </summary>
[Collection(ApiCollection.Name)]
public sealed class RequestTextAndTypeTests(ApiFixture fixture)
{
    private static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    [Theory]
    [InlineData("q")]
    [InlineData("tag")]
    [InlineData("source")]
    public async Task A_NUL_or_an_encoded_surrogate_in_any_query_parameter_is_a_400_naming_it(string parameter)
    {
        var (id, key) = await fixture.CreateOrganizationAsync();
        using var client = fixture.Client(key);

        var nul = await (await client.GetAsync($"/v1/organizations/{id}/examples?{parameter}=a%00b")).ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        var fine = await client.GetAsync($"/v1/organizations/{id}/examples?q=caf%C3%A9");

        nul.GetProperty("field").GetString().Should().Be(parameter);
        nul.GetProperty("detail").GetString().Should().Contain("NUL");
        fine.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("""{"agentId":"{agent}","endedAt":"2026-01-01T00:00:00Z","messages":[{"role":"user","content":"a\u0000b"}]}""", "$.messages[0].content")]
    [InlineData("""{"agentId":"{agent}","endedAt":"2026-01-01T00:00:00Z","messages":[{"role":"user","content":"a\ud800b"}]}""", "$.messages[0].content")]
    [InlineData("""{"agentId":"{agent}","endedAt":"2026-01-01T00:00:00Z","externalId":"x\u0000","messages":[{"role":"user","content":"hi"}]}""", "$.externalId")]
    [InlineData("""{"agentId":"{agent}","endedAt":"2026-01-01T00:00:00Z","metadata":{"k":"\u0000"},"messages":[{"role":"user","content":"hi"}]}""", "$.metadata.k")]
    [InlineData("""{"agentId":"{agent}","endedAt":"2026-01-01T00:00:00Z","metadata":{"\udc00":"v"},"messages":[{"role":"user","content":"hi"}]}""", "$.metadata.?")]
    [InlineData("""{"agentId":"{agent}","endedAt":"2026-01-01T00:00:00Z","messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"\u0000"}}]}]}""", "$.messages[0].tool_calls[0].function.arguments")]
    public async Task Text_that_cannot_be_stored_anywhere_in_a_conversation_is_a_400_naming_its_path(string body, string path)
    {
        var (id, key, agent) = await OrganizationWithAgentAsync();
        using var client = fixture.Client(key);

        var problem = await (await client.PostAsync($"/v1/organizations/{id}/conversations", Json(body.Replace("{agent}", agent.ToString()))))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest);

        problem.GetProperty("field").GetString().Should().Be(path);
    }

    [Fact]
    public async Task Text_that_can_be_stored_is_accepted_escaped_or_not_and_an_example_tag_with_NUL_is_refused()
    {
        var (id, key, agent) = await OrganizationWithAgentAsync();
        using var client = fixture.Client(key);
        var emoji = $$"""{"agentId":"{{agent}}","endedAt":"2026-01-01T00:00:00Z","metadata":{"mood":"\ud83d\ude00 ok"},"messages":[{"role":"user","content":"café 😀"},{"role":"assistant","content":"\u00e9"}]}""";
        var example = """{"example":{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a"}]},"tags":["ok\u0000"]}""";

        (await client.PostAsync($"/v1/organizations/{id}/conversations", Json(emoji))).StatusCode.Should().Be(HttpStatusCode.Created);
        var tag = await (await client.PostAsync($"/v1/organizations/{id}/examples", Json(example))).ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        tag.GetProperty("field").GetString().Should().Be("$.tags[0]");
        var listed = await (await client.GetAsync($"/v1/organizations/{id}/examples")).ReadJsonAsync();
        listed.GetProperty("items").GetArrayLength().Should().Be(0, "the refused example was not stored");
    }

    [Fact]
    public async Task Numbers_are_numbers_and_an_unknown_field_is_called_unknown()
    {
        var (id, key, agent) = await OrganizationWithAgentAsync();
        using var client = fixture.Client(key);
        string Conversation(string extra) =>
            $$"""{"agentId":"{{agent}}","endedAt":"2026-01-01T00:00:00Z",{{extra}}"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]}""";

        var quoted = await (await client.PostAsync($"/v1/organizations/{id}/conversations", Json(Conversation("\"rating\":\"4\","))))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        var unknown = await (await client.PostAsync($"/v1/organizations/{id}/conversations", Json(Conversation("\"ratting\":4,"))))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        var number = await client.PostAsync($"/v1/organizations/{id}/conversations", Json(Conversation("\"rating\":4,")));

        quoted.GetProperty("title").GetString().Should().Be("Invalid field type");
        quoted.GetProperty("field").GetString().Should().Be("$.rating");
        quoted.GetProperty("detail").GetString().Should().Contain("whole number");
        unknown.GetProperty("title").GetString().Should().Be("Unknown field");
        unknown.GetProperty("detail").GetString().Should().Contain("'ratting'");
        number.StatusCode.Should().Be(HttpStatusCode.Created);
    }

    [Fact]
    public async Task Conversations_take_the_OpenAI_field_names_for_tool_calls_but_not_both_spellings_at_once()
    {
        var (id, key, agent) = await OrganizationWithAgentAsync();
        using var client = fixture.Client(key);
        const string call = """[{"id":"call_1","type":"function","function":{"name":"lookup","arguments":"{}"}}]""";
        var openAi = $$"""{"agentId":"{{agent}}","endedAt":"2026-01-01T00:00:00Z","messages":[{"role":"user","content":"order?"},{"role":"assistant","content":null,"tool_calls":{{call}}},{"role":"tool","tool_call_id":"call_1","content":"shipped"},{"role":"assistant","content":"It shipped."}]}""";
        var both = $$"""{"agentId":"{{agent}}","endedAt":"2026-01-01T00:00:00Z","messages":[{"role":"user","content":"order?"},{"role":"assistant","content":null,"tool_calls":{{call}},"toolCalls":{{call}}}]}""";

        (await client.PostAsync($"/v1/organizations/{id}/conversations", Json(openAi))).StatusCode.Should().Be(HttpStatusCode.Created);
        var problem = await (await client.PostAsync($"/v1/organizations/{id}/conversations", Json(both))).ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        problem.GetProperty("field").GetString().Should().Be("messages[1].tool_calls");
        var imported = await (await client.PostAsJsonAsync($"/v1/organizations/{id}/conversations/imports", new { agentId = agent })).ReadJsonAsync();
        imported.GetProperty("created").GetInt32().Should().Be(1, "the tool call and its answer make a valid example");
    }

    private async Task<(Guid Id, string Key, Guid Agent)> OrganizationWithAgentAsync()
    {
        var (id, key) = await fixture.CreateOrganizationAsync();
        using var client = fixture.Client(key);
        var agent = await (await client.PostAsJsonAsync($"/v1/organizations/{id}/agents", new { name = "Bot" })).ReadJsonAsync(HttpStatusCode.Created);
        return (id, key, agent.GetProperty("id").GetGuid());
    }
}
