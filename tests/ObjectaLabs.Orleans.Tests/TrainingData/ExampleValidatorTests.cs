using ObjectaLabs.Orleans.Examples;

namespace ObjectaLabs.Orleans.Tests.TrainingData;

public sealed class ExampleValidatorTests
{
    private const string Weather = """{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}""";

    private static List<ExampleIssue> Issues(string line)
    {
        var issues = new List<ExampleIssue>();
        CheckedExample.Check(line, 7, issues, counter: null);
        return issues;
    }

    private static void ShouldFail(string line, string path, string code)
    {
        var issues = Issues(line);
        issues.Should().Contain(i => i.Path == path && i.Code == code && i.Line == 7 && i.Reason.Length > 0,
            "the line {0} should be refused at {1} with {2}, but the issues were {3}", line, path, code,
            string.Join("; ", issues.Select(i => $"{i.Path} {i.Code}")));
    }

    private static void ShouldPass(string line) =>
        Issues(line).Should().BeEmpty("the line {0} is valid", line);

    [Theory]
    [InlineData("""{"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello"}]}""")]
    [InlineData("""{"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi","name":"ann"},{"role":"assistant","content":"Hello","weight":1},{"role":"user","content":"Again"},{"role":"assistant","content":"Hi again","weight":0}]}""")]
    [InlineData("""{"messages":[{"role":"user","content":[{"type":"text","text":"What is this?"},{"type":"image_url","image_url":{"url":"https://example.com/a.png"}}]},{"role":"assistant","content":"A cat."}]}""")]
    public void Upload_accepts_plain_multi_turn_weighted_and_multimodal_chats(string line) => ShouldPass(line);

    [Fact]
    public void Upload_accepts_tool_calling_example_with_results_and_final_answer() => ShouldPass($$$"""
        {"tools":[{{{Weather}}}],"messages":[{"role":"user","content":"Weather in Paris?"},
        {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
        {"role":"tool","tool_call_id":"call_1","content":"18C"},{"role":"assistant","content":"18C in Paris."}]}
        """.ReplaceLineEndings(""));

    [Fact]
    public void Upload_accepts_example_ending_with_parallel_tool_calls() => ShouldPass($$$"""
        {"tools":[{{{Weather}}}],"parallel_tool_calls":true,"messages":[{"role":"user","content":"Paris and Rome?"},
        {"role":"assistant","tool_calls":[{"id":"a","type":"function","function":{"name":"get_weather","arguments":"{}"}},{"id":"b","type":"function","function":{"name":"get_weather","arguments":"{}"}}]}]}
        """.ReplaceLineEndings(""));

    [Fact]
    public void Upload_accepts_legacy_function_calling() => ShouldPass("""
        {"functions":[{"name":"lookup","parameters":{"type":"object"}}],"messages":[{"role":"user","content":"Find x"},
        {"role":"assistant","function_call":{"name":"lookup","arguments":"{}"}},{"role":"function","name":"lookup","content":"x=1"},
        {"role":"assistant","content":"x is 1"}]}
        """.ReplaceLineEndings(""));

    [Fact]
    public void Upload_rejects_line_that_is_not_json() => ShouldFail("""{"messages": [""", "$.messages", "invalid_json");

    [Theory]
    [InlineData("""[{"role":"user","content":"Hi"}]""")]
    [InlineData("\"messages\"")]
    public void Upload_rejects_line_that_is_not_an_object(string line) => ShouldFail(line, "$", "not_object");

    [Theory]
    [InlineData("""{}""")]
    [InlineData("""{"messages":"Hi"}""")]
    [InlineData("""{"messages":[]}""")]
    public void Upload_rejects_line_without_messages_list(string line) => ShouldFail(line, "$.messages", "missing_messages");

    [Fact]
    public void Upload_rejects_unknown_top_level_key() =>
        ShouldFail("""{"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello"}],"prompt":"x"}""", "$.prompt", "unknown_key");

    [Fact]
    public void Upload_rejects_unknown_message_key() =>
        ShouldFail("""{"messages":[{"role":"user","content":"Hi","mood":"ok"},{"role":"assistant","content":"Hello"}]}""", "$.messages[0].mood", "unknown_key");

    [Fact]
    public void Upload_rejects_weight_on_a_user_message() =>
        ShouldFail("""{"messages":[{"role":"user","content":"Hi","weight":1},{"role":"assistant","content":"Hello"}]}""", "$.messages[0].weight", "unknown_key");

    [Fact]
    public void Upload_rejects_unknown_role() =>
        ShouldFail("""{"messages":[{"role":"robot","content":"Hi"},{"role":"assistant","content":"Hello"}]}""", "$.messages[0].role", "unknown_role");

    [Theory]
    [InlineData("""{"messages":[{"role":"user"},{"role":"assistant","content":"Hello"}]}""", "$.messages[0].content")]
    [InlineData("""{"messages":[{"role":"user","content":null},{"role":"assistant","content":"Hello"}]}""", "$.messages[0].content")]
    [InlineData("""{"messages":[{"role":"user","content":"Hi"},{"role":"assistant"}]}""", "$.messages[1].content")]
    public void Upload_rejects_missing_content(string line, string path) => ShouldFail(line, path, "missing_content");

    [Fact]
    public void Upload_rejects_non_string_content() =>
        ShouldFail("""{"messages":[{"role":"user","content":42},{"role":"assistant","content":"Hello"}]}""", "$.messages[0].content", "content_not_string");

    [Fact]
    public void Upload_rejects_line_without_assistant_message() =>
        ShouldFail("""{"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}]}""", "$.messages", "no_assistant_message");

    [Theory]
    [InlineData("2")]
    [InlineData("0.5")]
    [InlineData("\"1\"")]
    [InlineData("true")]
    public void Upload_rejects_weight_other_than_0_or_1(string weight) =>
        ShouldFail($$$"""{"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello","weight":{{{weight}}}}]}""", "$.messages[1].weight", "invalid_weight");

    [Theory]
    [InlineData("""{"messages":[{"role":"user","content":"   "},{"role":"assistant","content":"Hello"}]}""", "$.messages[0].content")]
    [InlineData("""{"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":""}]}""", "$.messages[1].content")]
    public void Upload_rejects_empty_text(string line, string path) => ShouldFail(line, path, "empty_text");

    [Fact]
    public void Upload_rejects_tool_result_for_a_call_never_made() => ShouldFail("""
        {"messages":[{"role":"user","content":"Hi"},{"role":"assistant","tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{}"}}]},
        {"role":"tool","tool_call_id":"call_9","content":"x"},{"role":"assistant","content":"Done"}]}
        """.ReplaceLineEndings(""), "$.messages[2].tool_call_id", "tool_call_mismatch");

    [Fact]
    public void Upload_rejects_tool_call_left_unanswered_before_the_next_turn() => ShouldFail("""
        {"messages":[{"role":"user","content":"Hi"},{"role":"assistant","tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{}"}}]},
        {"role":"user","content":"Well?"},{"role":"assistant","content":"Done"}]}
        """.ReplaceLineEndings(""), "$.messages[1].tool_calls[0]", "tool_call_mismatch");

    [Fact]
    public void Upload_rejects_call_to_a_tool_the_example_does_not_define() => ShouldFail($$$"""
        {"tools":[{{{Weather}}}],"messages":[{"role":"user","content":"Hi"},
        {"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"send_email","arguments":"{}"}}]}]}
        """.ReplaceLineEndings(""), "$.messages[1].tool_calls[0].function.name", "tool_call_mismatch");

    [Fact]
    public void Upload_rejects_parallel_calls_when_parallel_tool_calls_is_false() => ShouldFail("""
        {"parallel_tool_calls":false,"messages":[{"role":"user","content":"Hi"},
        {"role":"assistant","tool_calls":[{"id":"a","type":"function","function":{"name":"f","arguments":"{}"}},{"id":"b","type":"function","function":{"name":"f","arguments":"{}"}}]}]}
        """.ReplaceLineEndings(""), "$.messages[1].tool_calls", "tool_call_mismatch");

    [Fact]
    public void Upload_rejects_tool_call_id_on_an_assistant_message() =>
        ShouldFail("""{"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"x","tool_call_id":"a"}]}""", "$.messages[1].tool_call_id", "unknown_key");

    [Fact]
    public void Upload_rejects_tool_call_arguments_that_are_not_a_string() => ShouldFail("""
        {"messages":[{"role":"user","content":"Hi"},{"role":"assistant","tool_calls":[{"id":"a","type":"function","function":{"name":"f","arguments":{"x":1}}}]}]}
        """.ReplaceLineEndings(""), "$.messages[1].tool_calls[0].function.arguments", "invalid_tool_calls");

    [Fact]
    public void Content_hash_ignores_key_order_whitespace_and_escaping()
    {
        var a = CheckedExample.Check("""{"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello","weight":1}]}""", 1, [], null)!;
        var b = CheckedExample.Check("""{ "messages" : [ {"content":"H\u0069", "role":"user"} , {"weight":1.0,"content":"Hello","role":"assistant"} ] }""", 1, [], null)!;
        var c = CheckedExample.Check("""{"messages":[{"role":"user","content":"Hi!"},{"role":"assistant","content":"Hello","weight":1}]}""", 1, [], null)!;
        b.ContentHash.Should().Equal(a.ContentHash);
        c.ContentHash.Should().NotEqual(a.ContentHash);
    }

    [Fact]
    public void Upload_rejects_a_key_given_twice() =>
        ShouldFail("""{"messages":[{"role":"user","content":"Hi","content":"Ho"},{"role":"assistant","content":"Hello"}]}""", "$.messages[0].content", "duplicate_key");

    [Fact]
    public void Content_hash_is_the_hash_of_the_canonical_example_that_is_stored_and_exported()
    {
        var line = $$$"""{"tools":[{{{Weather}}}],"parallel_tool_calls":false,"functions":[{"name":"f"}],"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello"}]}""";
        var example = CheckedExample.Check(line, 1, [], null)!;
        using var document = System.Text.Json.JsonDocument.Parse(line);
        var canonical = CanonicalJson.ToUtf8(document.RootElement);

        example.ContentHash.Should().Equal(System.Security.Cryptography.SHA256.HashData(canonical));
        System.Text.Encoding.UTF8.GetString(canonical).Should().StartWith("{\"functions\":[{\"name\":\"f\"}],\"messages\":");
    }
}
