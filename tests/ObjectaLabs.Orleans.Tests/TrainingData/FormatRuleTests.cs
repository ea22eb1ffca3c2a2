using System.Text;
using ObjectaLabs.Orleans.Examples;
using ObjectaLabs.Orleans.Text;

namespace ObjectaLabs.Orleans.Tests.TrainingData;

/// <summary>
/// The JSONL format rules class by class, against OpenAI's chat fine-tuning format and JSON itself:
/// each class has lines that must be refused at the exact path of the value at fault, and lines that must pass.
/// </summary>
public sealed class FormatRuleTests
{
    private const string User = """{"role":"user","content":"Hi"}""";
    private const string Answer = """{"role":"assistant","content":"Hello"}""";
    private const string Weather = """{"type":"function","function":{"name":"get_weather","description":"Weather now","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}""";

    private static List<ExampleIssue> Issues(byte[] line)
    {
        var issues = new List<ExampleIssue>();
        CheckedExample.Check(line, 7, issues, counter: null);
        return issues;
    }

    private static List<ExampleIssue> Issues(string line) => Issues(Encoding.UTF8.GetBytes(line));

    private static void ShouldFail(List<ExampleIssue> issues, string path, string code, string line) =>
        issues.Should().Contain(i => i.Path == path && i.Code == code && i.Line == 7,
            "the line {0} should be refused at {1} with {2}, but the issues were {3}", line, path, code,
            string.Join("; ", issues.Select(i => $"{i.Path} {i.Code} ({i.Reason})")));

    private static void ShouldFail(string line, string path, string code) => ShouldFail(Issues(line), path, code, line);

    private static void ShouldPass(string line) =>
        Issues(line).Should().BeEmpty("the line {0} is valid", line);

    private static string Chat(string messages, string? extra = null) => $$"""{{{extra}}"messages":[{{messages}}]}""";

    // ---- JSON itself ----------------------------------------------------------------------------

    [Theory]
    [InlineData("""{"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello"}]} x""")]
    [InlineData("""{"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello"}]}{"messages":[]}""")]
    [InlineData("""{"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello"}]},""")]
    public void Upload_rejects_text_after_the_json_object(string line) => ShouldFail(line, "$", "trailing_content");

    [Fact]
    public void Upload_accepts_whitespace_and_a_carriage_return_after_the_object() =>
        ShouldPass(Chat($"{User},{Answer}") + "  \t\r");

    [Theory]
    [InlineData("""{"messages":[{"role":"user","content":"a\x"}]}""", "$.messages[0].content")]
    [InlineData("""{"messages":[{"role":"user","content":"a\u12"}]}""", "$.messages[0].content")]
    [InlineData("""{"messages":[{"role":"user","content":"unclosed}]}""", "$.messages[0].content")]
    [InlineData("""{"messages":[{"role":"user",}]}""", "$.messages[0].role")]
    [InlineData("""{"messages":[{role:"user"}]}""", "$.messages[0]")]
    [InlineData("""{"messages":[01]}""", "$.messages")]
    [InlineData("""{"messages": [""", "$.messages")]
    [InlineData("""{"messages":[NaN]}""", "$.messages")]
    [InlineData("""{"messages":[]} // comment""", "$")]
    public void Upload_rejects_malformed_json_in_our_own_words_with_line_and_column(string line, string path)
    {
        var issues = Issues(line);
        var issue = issues.Should().ContainSingle().Subject;
        issue.Path.Should().Be(path);
        issue.Code.Should().BeOneOf("invalid_json", "trailing_content");
        issue.Reason.Should().MatchRegex(@"^Line 7, column \d+: ").And.NotContain("BytePositionInLine").And.NotContain("LineNumber")
            .And.NotContain("'0x", "the parser's own text never shows");
    }

    [Fact]
    public void Upload_reports_the_column_in_characters_where_the_json_breaks()
    {
        // "é" is two bytes but one character: the error is at character 15, byte 16.
        var issue = Issues("""{"messages":"é" x}""").Should().ContainSingle().Subject;
        issue.Reason.Should().StartWith("Line 7, column 17:");
    }

    [Fact]
    public void Upload_rejects_nesting_deeper_than_64_levels_and_accepts_deep_but_legal_schemas()
    {
        static string Nested(int depth) => string.Concat(Enumerable.Repeat("""{"a":""", depth)) + "1" + new string('}', depth);
        var tooDeep = $$$"""{"tools":[{"type":"function","function":{"name":"f","parameters":{{{Nested(70)}}}}}],"messages":[{{{User}}},{{{Answer}}}]}""";
        var deep = $$$"""{"tools":[{"type":"function","function":{"name":"f","parameters":{{{Nested(40)}}}}}],"messages":[{{{User}}},{{{Answer}}}]}""";

        Issues(tooDeep).Should().ContainSingle().Which.Code.Should().Be("too_deep");
        ShouldPass(deep);
    }

    [Fact]
    public void Upload_accepts_a_very_long_string()
    {
        var text = new string('x', 1 << 20);
        ShouldPass(Chat($$"""{"role":"user","content":"{{text}}"},{{Answer}}"""));
    }

    [Theory]
    [InlineData("""{"messages":[{"role":5,"content":"Hi"},{"role":"assistant","content":"Hello"}]}""", "$.messages[0].role", "invalid_type")]
    [InlineData("""{"messages":[{"role":"user","content":5},{"role":"assistant","content":"Hello"}]}""", "$.messages[0].content", "content_not_string")]
    [InlineData("""{"messages":[{"role":"user","content":"Hi","name":5},{"role":"assistant","content":"Hello"}]}""", "$.messages[0].name", "invalid_type")]
    [InlineData("""{"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":true}]}""", "$.messages[1].content", "content_not_string")]
    [InlineData("""{"parallel_tool_calls":"no","messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello"}]}""", "$.parallel_tool_calls", "invalid_type")]
    [InlineData("""{"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello","weight":"1"}]}""", "$.messages[1].weight", "invalid_weight")]
    public void Upload_rejects_numbers_and_other_types_where_strings_are_expected(string line, string path, string code) => ShouldFail(line, path, code);

    // ---- the same key twice ---------------------------------------------------------------------

    [Theory]
    [InlineData("""{"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello"}],"messages":[]}""", "$.messages")]
    [InlineData("""{"messages":[{"role":"user","role":"system","content":"Hi"},{"role":"assistant","content":"Hello"}]}""", "$.messages[0].role")]
    [InlineData("""{"messages":[{"role":"user","content":"Hi","name":null,"name":"ann"},{"role":"assistant","content":"Hello"}]}""", "$.messages[0].name")]
    [InlineData("""{"messages":[{"role":"user","content":"Hi","r\u006fle":"user"},{"role":"assistant","content":"Hello"}]}""", "$.messages[0].role")]
    [InlineData("""{"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"city":{"type":"string","type":"number"}}}}}],"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello"}]}""", "$.tools[0].function.parameters.properties.city.type")]
    public void Upload_rejects_an_object_with_the_same_key_twice_at_any_depth(string line, string path) => ShouldFail(line, path, "duplicate_key");

    [Fact]
    public void Upload_accepts_the_same_key_in_sibling_objects() => ShouldPass(Chat($"{User},{Answer},{User},{Answer}"));

    // ---- text PostgreSQL cannot store -----------------------------------------------------------

    [Theory]
    [InlineData("""{"messages":[{"role":"user","content":"a\u0000b"},{"role":"assistant","content":"Hello"}]}""", "$.messages[0].content", StorableText.NulCode)]
    [InlineData("""{"messages":[{"role":"user","content":"Hi","na\u0000me":"x"},{"role":"assistant","content":"Hello"}]}""", "$.messages[0]", StorableText.NulCode)]
    [InlineData("""{"messages":[{"role":"user","content":"a\ud800"},{"role":"assistant","content":"Hello"}]}""", "$.messages[0].content", StorableText.SurrogateCode)]
    [InlineData("""{"messages":[{"role":"user","content":"a\udc00b"},{"role":"assistant","content":"Hello"}]}""", "$.messages[0].content", StorableText.SurrogateCode)]
    [InlineData("""{"messages":[{"role":"user","content":"\ud800\ud800"},{"role":"assistant","content":"Hello"}]}""", "$.messages[0].content", StorableText.SurrogateCode)]
    [InlineData("""{"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"x\uDBFF\n"}]}""", "$.messages[1].content", StorableText.SurrogateCode)]
    public void Upload_rejects_nul_and_unpaired_surrogate_escapes_at_their_path(string line, string path, string code)
    {
        var issues = Issues(line);
        ShouldFail(issues, path, code, line);
        issues.Single().Reason.Should().MatchRegex(@"^Line 7, column \d+: ");
    }

    [Fact]
    public void Upload_accepts_surrogate_pairs_escaped_and_raw() =>
        ShouldPass(Chat("""{"role":"user","content":"\ud83d\ude00 and 😀 and \u00e9"},""" + Answer));

    public static TheoryData<byte[], string, int> BadBytes => new()
    {
        { [0xC0, 0xAF], StorableText.Utf8Code, 0 },             // overlong '/'
        { [0xE0, 0x80, 0xAF], StorableText.Utf8Code, 0 },       // overlong, three bytes
        { [0xE2, 0x82], StorableText.Utf8Code, 0 },             // truncated '€'
        { [0x80], StorableText.Utf8Code, 0 },                   // lone continuation byte
        { [0xFF], StorableText.Utf8Code, 0 },
        { [0xED, 0xA0, 0x80], StorableText.Utf8Code, 0 },       // an encoded surrogate (CESU-8)
        { [0xF4, 0x90, 0x80, 0x80], StorableText.Utf8Code, 0 }, // beyond U+10FFFF
        { [0x00], StorableText.NulCode, 0 },                    // a raw NUL
    };

    [Theory]
    [MemberData(nameof(BadBytes))]
    public void Upload_rejects_bytes_that_are_not_utf8_or_nul_with_line_and_column(byte[] bad, string code, int _)
    {
        var line = Encoding.UTF8.GetBytes("""{"messages":[{"role":"user","content":"é""").Concat(bad).Concat(Encoding.UTF8.GetBytes("""x"},{"role":"assistant","content":"Hello"}]}""")).ToArray();

        var issue = Issues(line).Should().ContainSingle().Subject;

        issue.Code.Should().Be(code);
        issue.Reason.Should().StartWith("Line 7, column 41:", "the fault follows 40 characters (é is one)");
    }

    [Fact]
    public void Example_given_as_text_with_an_unpaired_surrogate_is_refused_not_silently_replaced()
    {
        var issues = new List<ExampleIssue>();
        CheckedExample.Check(Chat($$"""{"role":"user","content":"a{{'\ud800'}}"},{{Answer}}"""), 1, issues, null).Should().BeNull();
        issues.Should().ContainSingle().Which.Code.Should().Be(StorableText.SurrogateCode);
    }

    [Fact]
    public void Storable_text_finds_nul_and_unpaired_surrogates_and_accepts_pairs()
    {
        StorableText.Find("ab\0c".AsSpan()).Should().Be(new StorableText.Fault(2, 3, StorableText.NulCode, StorableText.Find("\0".AsSpan())!.Value.Reason));
        StorableText.Find("😀x\ud800".AsSpan())!.Value.Should().Match<StorableText.Fault>(f => f.Index == 3 && f.Column == 3 && f.Code == StorableText.SurrogateCode);
        StorableText.Find("\udc00".AsSpan())!.Value.Code.Should().Be(StorableText.SurrogateCode);
        StorableText.IsStorable("😀 é ok").Should().BeTrue();
        StorableText.IsStorable(null).Should().BeTrue();
        StorableText.IsStorable("x\0").Should().BeFalse();
        StorableText.Find([0x61, 0xFF]).Should().NotBeNull().And.Match<StorableText.Fault?>(f => f!.Value.Index == 1 && f.Value.Column == 2);
        StorableText.Find("é😀"u8).Should().BeNull();
    }

    [Fact]
    public void Upload_rejects_a_byte_order_mark_inside_the_file() =>
        ShouldFail(Issues([0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(Chat($"{User},{Answer}"))]), "$", "byte_order_mark", "BOM line");

    // ---- messages and weights -------------------------------------------------------------------

    [Fact]
    public void Upload_rejects_an_example_whose_assistant_messages_all_have_weight_0() =>
        ShouldFail(Chat("""{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello","weight":0},{"role":"user","content":"Again"},{"role":"assistant","content":"Hi","weight":0}"""),
            "$.messages", "no_trainable_message");

    [Fact]
    public void Upload_accepts_an_example_with_one_trainable_assistant_message() =>
        ShouldPass(Chat("""{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello","weight":0},{"role":"user","content":"Again"},{"role":"assistant","content":"Hi"}"""));

    // ---- tools and functions --------------------------------------------------------------------

    [Theory]
    [InlineData("""[5]""", "$.tools[0]", "invalid_tools")]
    [InlineData("""[{"function":{"name":"f"}}]""", "$.tools[0].type", "invalid_tools")]
    [InlineData("""[{"type":"retrieval","function":{"name":"f"}}]""", "$.tools[0].type", "invalid_tools")]
    [InlineData("""[{"type":"function"}]""", "$.tools[0].function", "invalid_tools")]
    [InlineData("""[{"type":"function","function":{"name":"f"},"extra":1}]""", "$.tools[0].extra", "unknown_key")]
    [InlineData("""[{"type":"function","function":{"name":"get weather"}}]""", "$.tools[0].function.name", "invalid_function_name")]
    [InlineData("""[{"type":"function","function":{"name":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}}]""", "$.tools[0].function.name", "invalid_function_name")]
    [InlineData("""[{"type":"function","function":{"name":""}}]""", "$.tools[0].function.name", "invalid_tools")]
    [InlineData("""[{"type":"function","function":{"description":"no name"}}]""", "$.tools[0].function.name", "invalid_tools")]
    [InlineData("""[{"type":"function","function":{"name":"f","parameters":"{}"}}]""", "$.tools[0].function.parameters", "invalid_tools")]
    [InlineData("""[{"type":"function","function":{"name":"f","parameters":[]}}]""", "$.tools[0].function.parameters", "invalid_tools")]
    [InlineData("""[{"type":"function","function":{"name":"f","description":5}}]""", "$.tools[0].function.description", "invalid_tools")]
    [InlineData("""[{"type":"function","function":{"name":"f","returns":{}}}]""", "$.tools[0].function.returns", "unknown_key")]
    [InlineData("""[{"type":"function","function":{"name":"f"}},{"type":"function","function":{"name":"f"}}]""", "$.tools[1].function.name", "invalid_tools")]
    public void Upload_rejects_bad_tool_definitions_at_the_value_at_fault(string tools, string path, string code) =>
        ShouldFail(Chat($"{User},{Answer}", $"\"tools\":{tools},"), path, code);

    [Theory]
    [InlineData("""[{"name":"look up"}]""", "$.functions[0].name", "invalid_function_name")]
    [InlineData("""[{"name":"f","parameters":5}]""", "$.functions[0].parameters", "invalid_tools")]
    [InlineData("""[{"name":"f","strict":true}]""", "$.functions[0].strict", "invalid_tools")]
    [InlineData("""{"name":"f"}""", "$.functions", "invalid_tools")]
    public void Upload_rejects_bad_legacy_function_definitions(string functions, string path, string code) =>
        ShouldFail(Chat($"{User},{Answer}", $"\"functions\":{functions},"), path, code);

    [Fact]
    public void Upload_accepts_strict_tool_definitions_with_dashes_and_underscores() =>
        ShouldPass(Chat($"{User},{Answer}", "\"tools\":" + """[{"type":"function","function":{"name":"get-weather_v2","description":"","strict":true,"parameters":{"type":"object"}}}],"""));

    private static string Call(string call, string? result = null) =>
        $$"""{"tools":[{{Weather}}],"messages":[{{User}},{"role":"assistant","tool_calls":[{{call}}]}{{(result is null ? "" : "," + result)}}]}""";

    [Theory]
    [InlineData("""{"type":"function","function":{"name":"get_weather","arguments":"{}"}}""", "$.messages[1].tool_calls[0].id", "invalid_tool_calls")]
    [InlineData("""{"id":5,"type":"function","function":{"name":"get_weather","arguments":"{}"}}""", "$.messages[1].tool_calls[0].id", "invalid_tool_calls")]
    [InlineData("""{"id":"c1","type":"tool","function":{"name":"get_weather","arguments":"{}"}}""", "$.messages[1].tool_calls[0].type", "invalid_tool_calls")]
    [InlineData("""{"id":"c1","function":{"name":"get_weather","arguments":"{}"}}""", "$.messages[1].tool_calls[0].type", "invalid_tool_calls")]
    [InlineData("""{"id":"c1","type":"function","function":{"arguments":"{}"}}""", "$.messages[1].tool_calls[0].function.name", "invalid_tool_calls")]
    [InlineData("""{"id":"c1","type":"function","function":{"name":"get weather","arguments":"{}"}}""", "$.messages[1].tool_calls[0].function.name", "invalid_function_name")]
    [InlineData("""{"id":"c1","type":"function","function":{"name":"other","arguments":"{}"}}""", "$.messages[1].tool_calls[0].function.name", "tool_call_mismatch")]
    [InlineData("""{"id":"c1","type":"function","function":{"name":"get_weather","arguments":{"city":"Paris"}}}""", "$.messages[1].tool_calls[0].function.arguments", "invalid_tool_calls")]
    [InlineData("""{"id":"c1","type":"function","function":{"name":"get_weather"}}""", "$.messages[1].tool_calls[0].function.arguments", "invalid_tool_calls")]
    [InlineData("""{"id":"c1","type":"function","function":{"name":"get_weather","arguments":"{}","extra":1}}""", "$.messages[1].tool_calls[0].function.extra", "unknown_key")]
    [InlineData("""{"id":"c1","type":"function","function":{"name":"get_weather","arguments":"{}"},"index":0}""", "$.messages[1].tool_calls[0].index", "unknown_key")]
    public void Upload_rejects_bad_tool_calls_at_the_value_at_fault(string call, string path, string code) => ShouldFail(Call(call), path, code);

    [Theory]
    [InlineData("""{"role":"tool","tool_call_id":"nope","content":"18C"}""", "$.messages[2].tool_call_id")]
    [InlineData("""{"role":"tool","content":"18C"}""", "$.messages[2].tool_call_id")]
    [InlineData("""{"role":"tool","tool_call_id":5,"content":"18C"}""", "$.messages[2].tool_call_id")]
    public void Upload_rejects_a_tool_result_that_answers_no_prior_call(string result, string path) =>
        ShouldFail(Call("""{"id":"c1","type":"function","function":{"name":"get_weather","arguments":"{}"}}""", result), path, "tool_call_mismatch");

    [Fact]
    public void Upload_accepts_a_tool_result_that_answers_the_prior_call() =>
        ShouldPass(Call("""{"id":"c1","type":"function","function":{"name":"get_weather","arguments":"{}"}}""", """{"role":"tool","tool_call_id":"c1","content":"18C"},{"role":"assistant","content":"18C."}"""));

    // ---- content parts --------------------------------------------------------------------------

    [Theory]
    [InlineData("""[5]""", "$.messages[0].content[0]", "invalid_content_part")]
    [InlineData("""[{"text":"Hi"}]""", "$.messages[0].content[0].type", "invalid_content_part")]
    [InlineData("""[{"type":"audio","text":"Hi"}]""", "$.messages[0].content[0].type", "invalid_content_part")]
    [InlineData("""[{"type":"text","text":"Hi","cache":true}]""", "$.messages[0].content[0].cache", "unknown_key")]
    [InlineData("""[{"type":"text","text":5}]""", "$.messages[0].content[0].text", "content_not_string")]
    [InlineData("""[{"type":"image_url"}]""", "$.messages[0].content[0].image_url", "invalid_content_part")]
    [InlineData("""[{"type":"image_url","image_url":{"detail":"low"}}]""", "$.messages[0].content[0].image_url.url", "invalid_content_part")]
    [InlineData("""[{"type":"image_url","image_url":{"url":"https://x/a.png","detail":"ultra"}}]""", "$.messages[0].content[0].image_url.detail", "invalid_content_part")]
    [InlineData("""[{"type":"image_url","image_url":{"url":"https://x/a.png","size":1}}]""", "$.messages[0].content[0].image_url.size", "unknown_key")]
    [InlineData("""[{"type":"image_url","image_url":{"url":"https://x/a.png"},"text":"x"}]""", "$.messages[0].content[0].text", "unknown_key")]
    public void Upload_rejects_bad_content_parts_at_the_value_at_fault(string parts, string path, string code) =>
        ShouldFail(Chat($$"""{"role":"user","content":{{parts}}},{{Answer}}"""), path, code);

    [Fact]
    public void Upload_rejects_an_image_in_an_assistant_message_even_beside_a_tool_call() =>
        ShouldFail(Call("""{"id":"c1","type":"function","function":{"name":"get_weather","arguments":"{}"}}""").Replace("""{"role":"assistant",""", """{"role":"assistant","content":[{"type":"image_url","image_url":{"url":"https://x/a.png"}}],""", StringComparison.Ordinal),
            "$.messages[1].content[0].type", "invalid_content_part");

    [Fact]
    public void Upload_accepts_text_and_image_parts_with_detail() =>
        ShouldPass(Chat("""{"role":"user","content":[{"type":"text","text":"What?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA","detail":"low"}}]},""" + Answer));

    [Fact]
    public void Unknown_keys_with_odd_names_are_reported_with_a_bracketed_path() =>
        ShouldFail(Chat($"{User},{Answer}", "\"my key\":1,"), "$['my key']", "unknown_key");
}
