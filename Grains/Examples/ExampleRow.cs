using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace ObjectaLabs.Orleans.Examples;

/// <summary>A <c>training_examples</c> row as Dapper reads it (columns aliased to these names).</summary>
internal sealed class ExampleRow
{
    public const string Columns = """
        id AS Id, agent_id AS AgentId, messages::text AS Messages, tools::text AS Tools, functions::text AS Functions,
        parallel_tool_calls AS ParallelToolCalls, source AS Source, upload_id AS UploadId, conversation_id AS ConversationId,
        tags AS Tags, notes AS Notes, is_validated AS IsValidated, validated_by AS ValidatedBy, validated_at AS ValidatedAt,
        quality_score AS QualityScore, created_at AS CreatedAt, updated_at AS UpdatedAt
        """;

    public Guid Id { get; set; }
    public Guid? AgentId { get; set; }
    public string Messages { get; set; } = "[]";
    public string? Tools { get; set; }
    public string? Functions { get; set; }
    public bool? ParallelToolCalls { get; set; }
    public string Source { get; set; } = "manual";
    public Guid? UploadId { get; set; }
    public Guid? ConversationId { get; set; }
    public string[] Tags { get; set; } = [];
    public string? Notes { get; set; }
    public bool IsValidated { get; set; }
    public string? ValidatedBy { get; set; }
    public DateTime? ValidatedAt { get; set; }
    public decimal? QualityScore { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }

    public TrainingExample ToRecord() => new(
        Id, AgentId, ExampleJson(), SourceNames.Parse(Source), UploadId, ConversationId, Tags, Notes,
        IsValidated, ValidatedBy, ValidatedAt is { } v ? Utc(v) : null, QualityScore, Utc(CreatedAt), Utc(UpdatedAt));

    /// <summary>The example as one canonical JSON object, the same text its content hash was taken over.</summary>
    public string ExampleJson() => Compose(Messages, Tools, Functions, ParallelToolCalls);

    public static string Compose(string messages, string? tools, string? functions, bool? parallelToolCalls)
    {
        var buffer = new ArrayBufferWriter<byte>(messages.Length + 64);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            // Keys in ordinal order, as CanonicalJson writes them.
            writer.WriteStartObject();
            WritePart(writer, "functions", functions);
            WritePart(writer, "messages", messages);
            if (parallelToolCalls is { } parallel)
            {
                writer.WriteBoolean("parallel_tool_calls", parallel);
            }
            WritePart(writer, "tools", tools);
            writer.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void WritePart(Utf8JsonWriter writer, string name, string? json)
    {
        if (json is null)
        {
            return;
        }
        using var document = JsonDocument.Parse(json);
        writer.WritePropertyName(name);
        CanonicalJson.Write(writer, document.RootElement);
    }

    private static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));
}

/// <summary>The <c>source</c> column's values.</summary>
internal static class SourceNames
{
    public static string Of(ExampleSource source) => source switch
    {
        ExampleSource.Upload => "upload",
        ExampleSource.Conversation => "conversation",
        _ => "manual",
    };

    public static ExampleSource Parse(string source) => source switch
    {
        "upload" => ExampleSource.Upload,
        "conversation" => ExampleSource.Conversation,
        _ => ExampleSource.Manual,
    };
}
