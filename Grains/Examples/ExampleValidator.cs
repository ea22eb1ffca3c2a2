using System.Text.Json;
using System.Text.RegularExpressions;

namespace ObjectaLabs.Orleans.Examples;

/// <summary>
/// Checks one example against the OpenAI chat fine-tuning format. It accepts everything the format
/// allows (system, user, assistant, tool and the deprecated function role; assistant tool_calls,
/// function_call and weight 0/1; tool_call_id; name; content-part lists; tools, functions,
/// parallel_tool_calls), unlike the cookbook validator, which rejects tool calling. Every issue
/// names the JSON path of the value at fault. The text it sees has passed <see cref="JsonLine"/>
/// (one value, no duplicate keys, storable strings).
/// </summary>
public static partial class ExampleValidator
{
    /// <summary>OpenAI's rule for function names: letters, digits, underscores and dashes, at most 64.</summary>
    [GeneratedRegex("^[a-zA-Z0-9_-]{1,64}$", RegexOptions.CultureInvariant)]
    private static partial Regex FunctionName();

    private static readonly HashSet<string> Roles = ["system", "user", "assistant", "tool", "function"];
    private static readonly HashSet<string> AssistantKeys = ["weight", "tool_calls", "function_call"];

    /// <summary>Adds the example's issues to <paramref name="issues"/>; answers whether it is valid.</summary>
    public static bool Validate(JsonElement root, long line, List<ExampleIssue> issues)
    {
        var before = issues.Count;
        new Run(line, issues).Example(root);
        return issues.Count == before;
    }

    private sealed class Run(long line, List<ExampleIssue> issues)
    {
        private readonly HashSet<string> _toolNames = new(StringComparer.Ordinal);
        private readonly HashSet<string> _functionNames = new(StringComparer.Ordinal);
        private readonly HashSet<string> _callIds = new(StringComparer.Ordinal);
        private readonly Dictionary<string, string> _pending = new(StringComparer.Ordinal);
        private bool _parallelAllowed = true;

        private void Fail(string path, string code, string reason) => issues.Add(new ExampleIssue(line, path, code, reason));

        public void Example(JsonElement root)
        {
            if (root.ValueKind != JsonValueKind.Object)
            {
                Fail("$", "not_object", $"A line must be a JSON object, not {Describe(root)}.");
                return;
            }
            foreach (var property in root.EnumerateObject().Where(p => !(p.NameEquals("messages"u8) || p.NameEquals("tools"u8) || p.NameEquals("parallel_tool_calls"u8) || p.NameEquals("functions"u8))))
            {
                Fail($"${JsonLine.Member(property.Name)}", "unknown_key", $"Unknown key '{property.Name}'; an example has messages, tools, parallel_tool_calls and functions.");
            }
            if (root.TryGetProperty("parallel_tool_calls", out var parallel))
            {
                if (parallel.ValueKind is JsonValueKind.True or JsonValueKind.False)
                {
                    _parallelAllowed = parallel.GetBoolean();
                }
                else
                {
                    Fail("$.parallel_tool_calls", "invalid_type", "'parallel_tool_calls' must be true or false.");
                }
            }
            if (root.TryGetProperty("tools", out var tools))
            {
                Tools(tools);
            }
            if (root.TryGetProperty("functions", out var functions))
            {
                Functions(functions);
            }
            if (!root.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array)
            {
                Fail("$.messages", "missing_messages", messages.ValueKind == JsonValueKind.Undefined
                    ? "The example has no 'messages' list."
                    : $"'messages' must be a list, not {Describe(messages)}.");
                return;
            }
            if (messages.GetArrayLength() == 0)
            {
                Fail("$.messages", "missing_messages", "The 'messages' list is empty.");
                return;
            }
            var index = 0;
            var hasAssistant = false;
            var trainable = false;
            string? lastRole = null;
            foreach (var message in messages.EnumerateArray())
            {
                var role = Message(message, $"$.messages[{index}]");
                lastRole = role ?? lastRole;
                if (role == "assistant")
                {
                    hasAssistant = true;
                    // weight is 0 or 1 (anything else is reported); absent means trained
                    trainable |= !message.TryGetProperty("weight", out var weight) || !(weight.ValueKind == JsonValueKind.Number && weight.GetDouble() == 0);
                }
                index++;
            }
            // An example may end on an assistant message that calls tools (that is what it teaches);
            // a conversation that answered only some of the calls may not.
            if (lastRole == "tool")
            {
                UnansweredCalls();
            }
            if (!hasAssistant)
            {
                Fail("$.messages", "no_assistant_message", "The example has no assistant message, so there is nothing to learn.");
            }
            else if (!trainable)
            {
                Fail("$.messages", "no_trainable_message", "Every assistant message has weight 0, so there is nothing to learn.");
            }
        }

        private string? Message(JsonElement message, string path)
        {
            if (message.ValueKind != JsonValueKind.Object)
            {
                Fail(path, "invalid_message", $"A message must be a JSON object, not {Describe(message)}.");
                return null;
            }
            if (!message.TryGetProperty("role", out var roleElement))
            {
                Fail($"{path}.role", "missing_role", "The message has no 'role'.");
                return null;
            }
            if (roleElement.ValueKind != JsonValueKind.String)
            {
                Fail($"{path}.role", "invalid_type", $"'role' must be a string (system, user, assistant, tool or function), not {Describe(roleElement)}.");
                return null;
            }
            if (roleElement.GetString() is not { } role || !Roles.Contains(role))
            {
                Fail($"{path}.role", "unknown_role", $"Unknown role {roleElement.GetRawText()}; use system, user, assistant, tool or function.");
                return null;
            }
            if (role != "tool" && _pending.Count > 0)
            {
                UnansweredCalls();
            }
            foreach (var property in message.EnumerateObject())
            {
                if (!Allowed(role, property))
                {
                    var known = AssistantKeys.Contains(property.Name) || property.Name == "tool_call_id";
                    Fail($"{path}{JsonLine.Member(property.Name)}", "unknown_key", known
                        ? $"'{property.Name}' is not allowed on a {role} message."
                        : $"Unknown key '{property.Name}' on a {role} message.");
                }
            }
            if (message.TryGetProperty("name", out var name) && !NonEmptyString(name))
            {
                Fail($"{path}.name", "invalid_type", "'name' must be a non-empty string.");
            }
            switch (role)
            {
                case "assistant":
                    Assistant(message, path);
                    break;
                case "tool":
                    RequiredContent(message, path, role);
                    ToolResult(message, path);
                    break;
                case "function":
                    RequiredContent(message, path, role);
                    if (!message.TryGetProperty("name", out var answered))
                    {
                        Fail($"{path}.name", "missing_name", "A function message needs the 'name' of the function it answers.");
                    }
                    else if (NonEmptyString(answered))
                    {
                        CheckFunctionName(answered, $"{path}.name");
                    }
                    break;
                default:
                    RequiredContent(message, path, role);
                    break;
            }
            return role;
        }

        private static bool Allowed(string role, JsonProperty p) =>
            p.NameEquals("role"u8) || p.NameEquals("content"u8) || p.NameEquals("name"u8)
            || (role == "assistant" && (p.NameEquals("weight"u8) || p.NameEquals("tool_calls"u8) || p.NameEquals("function_call"u8)))
            || (role == "tool" && p.NameEquals("tool_call_id"u8));

        private void Assistant(JsonElement message, string path)
        {
            var hasCalls = message.TryGetProperty("tool_calls", out var calls);
            var hasFunctionCall = message.TryGetProperty("function_call", out var functionCall);
            if (hasCalls || hasFunctionCall)
            {
                // With a call, text is optional: null, absent or any text (even empty) is fine.
                if (message.TryGetProperty("content", out var content))
                {
                    if (content.ValueKind == JsonValueKind.Array)
                    {
                        ContentParts(content, $"{path}.content", allowImages: false);
                    }
                    else if (content.ValueKind is not (JsonValueKind.Null or JsonValueKind.String))
                    {
                        Fail($"{path}.content", "content_not_string", $"'content' must be a string, a list of text parts or null, not {Describe(content)}.");
                    }
                }
            }
            else
            {
                RequiredContent(message, path, "assistant");
            }
            if (message.TryGetProperty("weight", out var weight)
                && !(weight.ValueKind == JsonValueKind.Number && weight.TryGetDouble(out var w) && (w == 0 || w == 1)))
            {
                Fail($"{path}.weight", "invalid_weight", $"'weight' must be 0 or 1, not {weight.GetRawText()}.");
            }
            if (hasCalls)
            {
                ToolCalls(calls, $"{path}.tool_calls");
            }
            if (hasFunctionCall)
            {
                Call(functionCall, $"{path}.function_call", _functionNames, "functions");
            }
        }

        private void ToolCalls(JsonElement calls, string path)
        {
            if (calls.ValueKind != JsonValueKind.Array || calls.GetArrayLength() == 0)
            {
                Fail(path, "invalid_tool_calls", "'tool_calls' must be a non-empty list.");
                return;
            }
            if (!_parallelAllowed && calls.GetArrayLength() > 1)
            {
                Fail(path, "tool_call_mismatch", "The example sets parallel_tool_calls to false but this message makes several calls at once.");
            }
            var i = 0;
            foreach (var call in calls.EnumerateArray())
            {
                var callPath = $"{path}[{i++}]";
                if (call.ValueKind != JsonValueKind.Object)
                {
                    Fail(callPath, "invalid_tool_calls", "A tool call must be an object with id, type and function.");
                    continue;
                }
                foreach (var property in call.EnumerateObject().Where(p => !(p.NameEquals("id"u8) || p.NameEquals("type"u8) || p.NameEquals("function"u8))))
                {
                    Fail($"{callPath}{JsonLine.Member(property.Name)}", "unknown_key", $"Unknown key '{property.Name}' in a tool call.");
                }
                if (!call.TryGetProperty("id", out var id) || !NonEmptyString(id))
                {
                    Fail($"{callPath}.id", "invalid_tool_calls", "A tool call needs a non-empty string 'id'.");
                }
                else if (!_callIds.Add(id.GetString()!))
                {
                    Fail($"{callPath}.id", "tool_call_mismatch", $"Tool call id '{id.GetString()}' is used twice in the example.");
                }
                else
                {
                    _pending[id.GetString()!] = callPath;
                }
                if (!call.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || !type.ValueEquals("function"u8))
                {
                    Fail($"{callPath}.type", "invalid_tool_calls", "A tool call's 'type' must be \"function\".");
                }
                if (!call.TryGetProperty("function", out var function))
                {
                    Fail($"{callPath}.function", "invalid_tool_calls", "A tool call needs a 'function' with name and arguments.");
                }
                else
                {
                    Call(function, $"{callPath}.function", _toolNames, "tools");
                }
            }
        }

        private void Call(JsonElement function, string path, HashSet<string> declared, string declaredIn)
        {
            if (function.ValueKind != JsonValueKind.Object)
            {
                Fail(path, "invalid_tool_calls", "A call must be an object with 'name' and 'arguments'.");
                return;
            }
            foreach (var property in function.EnumerateObject().Where(p => !(p.NameEquals("name"u8) || p.NameEquals("arguments"u8))))
            {
                Fail($"{path}{JsonLine.Member(property.Name)}", "unknown_key", $"Unknown key '{property.Name}' in a call.");
            }
            if (!function.TryGetProperty("name", out var name) || !NonEmptyString(name))
            {
                Fail($"{path}.name", "invalid_tool_calls", "A call needs a non-empty string 'name'.");
            }
            else if (!CheckFunctionName(name, $"{path}.name"))
            {
                // reported
            }
            else if (declared.Count > 0 && !declared.Contains(name.GetString()!))
            {
                Fail($"{path}.name", "tool_call_mismatch", $"Calls '{name.GetString()}', which is not among the example's {declaredIn}.");
            }
            if (!function.TryGetProperty("arguments", out var arguments))
            {
                Fail($"{path}.arguments", "invalid_tool_calls", "A call needs 'arguments', a string holding the JSON-encoded arguments.");
            }
            else if (arguments.ValueKind != JsonValueKind.String)
            {
                Fail($"{path}.arguments", "invalid_tool_calls", $"A call's 'arguments' must be a string (the JSON-encoded arguments), not {Describe(arguments)}.");
            }
        }

        private void ToolResult(JsonElement message, string path)
        {
            if (!message.TryGetProperty("tool_call_id", out var id) || !NonEmptyString(id))
            {
                Fail($"{path}.tool_call_id", "tool_call_mismatch", "A tool message needs the 'tool_call_id' of the call it answers.");
                return;
            }
            if (!_pending.Remove(id.GetString()!))
            {
                Fail($"{path}.tool_call_id", "tool_call_mismatch",
                    $"Answers tool call '{id.GetString()}', which no earlier assistant message made or which was already answered.");
            }
        }

        private void UnansweredCalls()
        {
            foreach (var (id, callPath) in _pending)
            {
                Fail(callPath, "tool_call_mismatch", $"Tool call '{id}' has no tool result before the conversation moves on.");
            }
            _pending.Clear();
        }

        private void RequiredContent(JsonElement message, string path, string role)
        {
            if (!message.TryGetProperty("content", out var content) || content.ValueKind == JsonValueKind.Null)
            {
                Fail($"{path}.content", "missing_content", $"A {role} message needs 'content'.");
                return;
            }
            switch (content.ValueKind)
            {
                case JsonValueKind.String:
                    if (string.IsNullOrWhiteSpace(content.GetString()))
                    {
                        Fail($"{path}.content", "empty_text", $"The {role} message's content is empty.");
                    }
                    break;
                case JsonValueKind.Array:
                    ContentParts(content, $"{path}.content", allowImages: role == "user");
                    break;
                default:
                    Fail($"{path}.content", "content_not_string", $"'content' must be a string or a list of content parts, not {Describe(content)}.");
                    break;
            }
        }

        private void ContentParts(JsonElement parts, string path, bool allowImages)
        {
            if (parts.GetArrayLength() == 0)
            {
                Fail(path, "empty_text", "The content part list is empty.");
                return;
            }
            var i = 0;
            foreach (var part in parts.EnumerateArray())
            {
                var partPath = $"{path}[{i++}]";
                if (part.ValueKind != JsonValueKind.Object)
                {
                    Fail(partPath, "invalid_content_part", $"A content part must be an object with a 'type', not {Describe(part)}.");
                    continue;
                }
                if (!part.TryGetProperty("type", out var typeElement) || typeElement.ValueKind != JsonValueKind.String)
                {
                    Fail($"{partPath}.type", "invalid_content_part", allowImages
                        ? "A content part needs a 'type' of \"text\" or \"image_url\"."
                        : "A content part here needs the 'type' \"text\".");
                    continue;
                }
                var type = typeElement.GetString();
                if (type == "text")
                {
                    UnknownKeys(part, partPath, "a text part", "type", "text");
                    if (!part.TryGetProperty("text", out var text) || text.ValueKind != JsonValueKind.String)
                    {
                        Fail($"{partPath}.text", "content_not_string", "A text part needs a string 'text'.");
                    }
                    else if (string.IsNullOrWhiteSpace(text.GetString()))
                    {
                        Fail($"{partPath}.text", "empty_text", "The text part is empty.");
                    }
                }
                else if (type == "image_url" && allowImages)
                {
                    UnknownKeys(part, partPath, "an image part", "type", "image_url");
                    if (!part.TryGetProperty("image_url", out var image) || image.ValueKind != JsonValueKind.Object)
                    {
                        Fail($"{partPath}.image_url", "invalid_content_part", "An image part needs 'image_url', an object with a 'url'.");
                        continue;
                    }
                    UnknownKeys(image, $"{partPath}.image_url", "an image_url", "url", "detail");
                    if (!image.TryGetProperty("url", out var url) || !NonEmptyString(url))
                    {
                        Fail($"{partPath}.image_url.url", "invalid_content_part", "'url' must be a non-empty string (an https URL or a data: URL).");
                    }
                    if (image.TryGetProperty("detail", out var detail)
                        && !(detail.ValueKind == JsonValueKind.String && detail.GetString() is "auto" or "low" or "high"))
                    {
                        Fail($"{partPath}.image_url.detail", "invalid_content_part", "'detail' must be \"auto\", \"low\" or \"high\".");
                    }
                }
                else
                {
                    Fail($"{partPath}.type", "invalid_content_part", allowImages
                        ? $"Unknown content part type '{type}'; use \"text\" or \"image_url\"."
                        : $"A content part here must be of type \"text\", not '{type}' (images are only allowed in user messages).");
                }
            }
        }

        private void UnknownKeys(JsonElement obj, string path, string what, params string[] known)
        {
            foreach (var property in obj.EnumerateObject())
            {
                if (Array.IndexOf(known, property.Name) < 0)
                {
                    Fail($"{path}{JsonLine.Member(property.Name)}", "unknown_key", $"Unknown key '{property.Name}' in {what}.");
                }
            }
        }

        private void Tools(JsonElement tools)
        {
            if (tools.ValueKind != JsonValueKind.Array)
            {
                Fail("$.tools", "invalid_tools", "'tools' must be a list.");
                return;
            }
            var i = 0;
            foreach (var tool in tools.EnumerateArray())
            {
                var path = $"$.tools[{i++}]";
                if (tool.ValueKind != JsonValueKind.Object)
                {
                    Fail(path, "invalid_tools", $"A tool must be an object {{\"type\": \"function\", \"function\": {{...}}}}, not {Describe(tool)}.");
                    continue;
                }
                UnknownKeys(tool, path, "a tool", "type", "function");
                if (!tool.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || !type.ValueEquals("function"u8))
                {
                    Fail($"{path}.type", "invalid_tools", "A tool's 'type' must be \"function\".");
                }
                if (!tool.TryGetProperty("function", out var function))
                {
                    Fail($"{path}.function", "invalid_tools", "A tool needs a 'function' definition (name, description, parameters).");
                    continue;
                }
                Definition(function, $"{path}.function", _toolNames, allowStrict: true);
            }
        }

        private void Functions(JsonElement functions)
        {
            if (functions.ValueKind != JsonValueKind.Array)
            {
                Fail("$.functions", "invalid_tools", "'functions' must be a list.");
                return;
            }
            var i = 0;
            foreach (var function in functions.EnumerateArray())
            {
                Definition(function, $"$.functions[{i++}]", _functionNames, allowStrict: false);
            }
        }

        private void Definition(JsonElement function, string path, HashSet<string> names, bool allowStrict)
        {
            if (function.ValueKind != JsonValueKind.Object)
            {
                Fail(path, "invalid_tools", "A function definition must be an object.");
                return;
            }
            foreach (var property in function.EnumerateObject())
            {
                var ok = property.Name switch
                {
                    "name" => NonEmptyString(property.Value),
                    "description" => property.Value.ValueKind == JsonValueKind.String,
                    "parameters" => property.Value.ValueKind == JsonValueKind.Object,
                    "strict" => allowStrict && property.Value.ValueKind is JsonValueKind.True or JsonValueKind.False,
                    _ => false,
                };
                if (!ok)
                {
                    Fail($"{path}{JsonLine.Member(property.Name)}", property.Name is "name" or "description" or "parameters" or "strict" ? "invalid_tools" : "unknown_key",
                        property.Name switch
                        {
                            "name" => "'name' must be a non-empty string.",
                            "description" => "'description' must be a string.",
                            "parameters" => $"'parameters' must be a JSON Schema object, not {Describe(property.Value)}.",
                            "strict" => "'strict' must be true or false.",
                            _ => $"Unknown key '{property.Name}' in a function definition.",
                        });
                }
            }
            if (!function.TryGetProperty("name", out var name))
            {
                Fail($"{path}.name", "invalid_tools", "A function definition needs a 'name'.");
            }
            else if (NonEmptyString(name) && CheckFunctionName(name, $"{path}.name") && !names.Add(name.GetString()!))
            {
                Fail($"{path}.name", "invalid_tools", $"Function '{name.GetString()}' is defined twice.");
            }
        }

        /// <summary>Reports a function name that breaks OpenAI's pattern; answers whether it is fine.</summary>
        private bool CheckFunctionName(JsonElement name, string path)
        {
            var text = name.GetString()!;
            if (FunctionName().IsMatch(text))
            {
                return true;
            }
            Fail(path, "invalid_function_name", text.Length > 64
                ? $"A function name may have at most 64 characters; this one has {text.Length}."
                : "A function name may only hold letters, digits, underscores and dashes (a-z, A-Z, 0-9, _ and -).");
            return false;
        }

        private static bool NonEmptyString(JsonElement e) => e.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(e.GetString());

        private static string Describe(JsonElement e) => e.ValueKind switch
        {
            JsonValueKind.Array => "a list",
            JsonValueKind.String => "a string",
            JsonValueKind.Number => "a number",
            JsonValueKind.True or JsonValueKind.False => "a boolean",
            JsonValueKind.Null => "null",
            JsonValueKind.Object => "an object",
            _ => "nothing",
        };
    }
}
