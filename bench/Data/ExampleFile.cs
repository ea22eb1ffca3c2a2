using System.Text;
using System.Text.Json;

namespace ObjectaLabs.Orleans.Bench.Data;

/// <summary>
/// A deterministic synthetic training file: mostly system/user/assistant chats of 20–120 words per
/// message, some multi-turn conversations and some tool-calling examples, as real uploads mix them.
/// </summary>
public static class ExampleFile
{
    private static readonly string[] Words =
    [
        "account", "password", "reset", "order", "shipping", "refund", "invoice", "the", "a", "to", "your", "please", "click",
        "settings", "billing", "we", "can", "help", "with", "that", "is", "not", "available", "today", "tomorrow", "thanks",
        "customer", "support", "team", "email", "address", "update", "plan", "upgrade", "cancel", "subscription", "delivery",
        "package", "tracking", "number", "status", "payment", "card", "declined", "try", "again", "later", "sorry", "for",
        "inconvenience", "détails", "über", "naïve", "東京", "заказ", "2026", "#42", "v1.2", "(optional)", "don't", "it's",
    ];

    public static string Write(string path, int count, int seed = 1)
    {
        var random = new Random(seed);
        using var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 16);
        for (var i = 0; i < count; i++)
        {
            writer.Write(JsonSerializer.Serialize(Example(random, i)));
            writer.Write('\n');
        }
        return path;
    }

    private static object Example(Random random, int i)
    {
        var kind = random.Next(10);
        var system = new { role = "system", content = "You are a helpful support agent. " + Text(random, 15, 40) };
        if (kind < 7)
        {
            return new { messages = new object[] { system, User(random, i), Assistant(random) } };
        }
        if (kind < 9)
        {
            return new { messages = new object[] { system, User(random, i), Assistant(random), User(random, i), Assistant(random) } };
        }
        var args = JsonSerializer.Serialize(new { order = $"A{i}", include = "tracking" });
        return new
        {
            tools = new[] { new { type = "function", function = new { name = "lookup_order", description = Text(random, 8, 12), parameters = new { type = "object", properties = new { order = new { type = "string" } } } } } },
            messages = new object[]
            {
                system, User(random, i),
                new { role = "assistant", tool_calls = new[] { new { id = $"call_{i}", type = "function", function = new { name = "lookup_order", arguments = args } } } },
                new { role = "tool", tool_call_id = $"call_{i}", content = Text(random, 10, 30) },
                Assistant(random),
            },
        };
    }

    private static object User(Random random, int i) => new { role = "user", content = $"[{i}] " + Text(random, 20, 80) };

    private static object Assistant(Random random) => new { role = "assistant", content = Text(random, 30, 120) };

    private static string Text(Random random, int min, int max)
    {
        var n = random.Next(min, max);
        var builder = new StringBuilder();
        for (var w = 0; w < n; w++)
        {
            builder.Append(w == 0 ? "" : " ").Append(Words[random.Next(Words.Length)]);
        }
        return builder.Append('.').ToString();
    }
}
