using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;

namespace ObjectaLabs.Orleans.FewShot;

/// <summary>Term ids shared by an index and its successors; only grows. Safe for concurrent readers and one writer.</summary>
public sealed class TermDictionary
{
    private readonly ConcurrentDictionary<string, int> _ids = new(StringComparer.Ordinal);
    private int _next = -1;

    public int Count => _next + 1;

    public int GetOrAdd(string term) =>
        _ids.TryGetValue(term, out var id) ? id : _ids.GetOrAdd(term, _ => Interlocked.Increment(ref _next));

    public bool TryGet(string term, out int id) => _ids.TryGetValue(term, out id);
}

/// <summary>A validated example's row as selection reads it: id, agent, chat messages (JSON array text), tags, last change.</summary>
public sealed class SelectableRow
{
    public Guid Id { get; set; }
    public Guid? AgentId { get; set; }
    public string Messages { get; set; } = "[]";
    public string[] Tags { get; set; } = [];
    public DateTime UpdatedAt { get; set; }
}

/// <summary>
/// One selectable example in memory: its chat turns (user and assistant text; system messages and tool calls are left
/// out, as the template's prefix is the system message), the question (its user turns) and answer (its last assistant
/// turn) that the text format renders, and the question's terms with their counts (what the index ranks).
/// </summary>
public sealed class IndexedExample
{
    private long _tokens;

    private IndexedExample(Guid id, Guid? agentId, string[] tags, PromptMessage[] turns, string question, string answer, DateTime updatedAt, int[] terms, int[] counts)
    {
        Id = id;
        AgentId = agentId;
        Tags = tags;
        Turns = turns;
        Question = question;
        Answer = answer;
        UpdatedAt = updatedAt;
        TermIds = terms;
        TermCounts = counts;
        Length = counts.Sum();
    }

    public Guid Id { get; }
    public Guid? AgentId { get; }
    public string[] Tags { get; }
    public PromptMessage[] Turns { get; }
    public string Question { get; }
    public string Answer { get; }
    public DateTime UpdatedAt { get; }

    /// <summary>The question's distinct term ids, ascending, and how often each occurs.</summary>
    public int[] TermIds { get; }
    public int[] TermCounts { get; }

    /// <summary>Terms in the question (the document length BM25 normalizes by).</summary>
    public int Length { get; }

    public static IndexedExample Create(SelectableRow row, TermDictionary terms)
    {
        var turns = new List<PromptMessage>();
        using (var messages = JsonDocument.Parse(row.Messages))
        {
            foreach (var message in messages.RootElement.EnumerateArray())
            {
                var role = message.TryGetProperty("role", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
                if (role is "user" or "assistant" && TextOf(message) is { Length: > 0 } text)
                {
                    turns.Add(new PromptMessage(role, text));
                }
            }
        }
        var question = string.Join("\n", turns.Where(t => t.Role == "user").Select(t => t.Content));
        var answer = turns.LastOrDefault(t => t.Role == "assistant")?.Content ?? "";
        var counts = new SortedDictionary<int, int>();
        foreach (var term in ExampleTerms.Of(question))
        {
            var id = terms.GetOrAdd(term);
            counts[id] = counts.GetValueOrDefault(id) + 1;
        }
        return new IndexedExample(row.Id, row.AgentId, row.Tags, [.. turns], question, answer, row.UpdatedAt, [.. counts.Keys], [.. counts.Values]);
    }

    /// <summary>A message's text: its string content, or its text parts joined.</summary>
    private static string? TextOf(JsonElement message)
    {
        if (!message.TryGetProperty("content", out var content))
        {
            return null;
        }
        if (content.ValueKind == JsonValueKind.String)
        {
            return content.GetString();
        }
        if (content.ValueKind != JsonValueKind.Array)
        {
            return null;
        }
        var text = new StringBuilder();
        foreach (var part in content.EnumerateArray())
        {
            if (part.ValueKind == JsonValueKind.Object && part.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String)
            {
                text.Append(t.GetString());
            }
        }
        return text.ToString();
    }

    /// <summary>How often <paramref name="termId"/> occurs in the question (binary search).</summary>
    public int CountOf(int termId)
    {
        var at = Array.BinarySearch(TermIds, termId);
        return at >= 0 ? TermCounts[at] : 0;
    }

    /// <summary>Jaccard similarity of two questions' distinct terms (1: the same terms).</summary>
    public double Similarity(IndexedExample other)
    {
        if (TermIds.Length == 0 || other.TermIds.Length == 0)
        {
            return 0;
        }
        int i = 0, j = 0, shared = 0;
        while (i < TermIds.Length && j < other.TermIds.Length)
        {
            var c = TermIds[i].CompareTo(other.TermIds[j]);
            if (c == 0)
            {
                shared++;
                i++;
                j++;
            }
            else if (c < 0)
            {
                i++;
            }
            else
            {
                j++;
            }
        }
        return (double)shared / (TermIds.Length + other.TermIds.Length - shared);
    }

    /// <summary>
    /// The example's tokens as rendered under <paramref name="stamp"/> (the rendering and tokenizer), counted once per
    /// stamp: the last count is kept with its stamp (a race only counts twice).
    /// </summary>
    public int TokensFor(int stamp, Func<IndexedExample, int> count)
    {
        var cached = Volatile.Read(ref _tokens);
        if (cached != 0 && (int)(cached >> 32) == stamp)
        {
            return (int)(cached & 0xFFFF_FFFF);
        }
        var tokens = count(this);
        Volatile.Write(ref _tokens, ((long)stamp << 32) | (uint)tokens);
        return tokens;
    }
}
