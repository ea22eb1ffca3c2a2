using ObjectaLabs.Orleans.Examples;
using ObjectaLabs.Orleans.Problems;

namespace ObjectaLabs.Orleans.Conversations;

/// <summary>
/// Imports matching conversations as examples linked to their conversation. Idempotent: a
/// (conversation, part) already imported, or an identical example already stored, is not stored again.
/// </summary>
public sealed class ConversationImporter(ConversationRows conversations, ExampleRows examples)
{
    private const int BatchSize = 1000;

    public async Task<ConversationImportReport> ImportAsync(Guid organizationId, ConversationImportRequest request, ExampleLimitCheck checkLimit, DateTimeOffset now)
    {
        if (request.MinRating is < 1 or > 5)
        {
            throw ProblemException.Invalid("minRating", "'minRating' must be between 1 and 5.");
        }
        var matched = 0;
        var skipped = 0;
        var candidates = 0;
        var created = 0;
        var issues = new List<ExampleIssue>();
        var batch = new List<NewExampleRow>();
        var tags = request.Tags ?? [];
        await foreach (var conversation in conversations.MatchingAsync(organizationId, request))
        {
            matched++;
            foreach (var (part, json) in ConversationExamples.From(conversation, request.AdjacentPairs))
            {
                var found = new List<ExampleIssue>();
                if (CheckedExample.Check(json, 0, found, counter: null) is not { } example)
                {
                    skipped++;
                    issues.AddRange(found.Take(Math.Max(0, UploadLimits.MaxIssues - issues.Count))
                        .Select(i => i with { Path = $"conversations[{conversation.Id}]{i.Path[1..]}" }));
                    continue;
                }
                candidates++;
                batch.Add(new NewExampleRow(Guid.CreateVersion7(now), conversation.AgentId, example, ExampleSource.Conversation, tags, now,
                    ConversationId: conversation.Id, ConversationPart: part));
            }
            if (batch.Count >= BatchSize)
            {
                created += (await examples.StoreAsync(organizationId, batch, checkLimit)).Stored;
                batch.Clear();
            }
        }
        if (batch.Count > 0)
        {
            created += (await examples.StoreAsync(organizationId, batch, checkLimit)).Stored;
        }
        return new ConversationImportReport(matched, created, candidates - created, skipped, issues);
    }

    private static class UploadLimits
    {
        public const int MaxIssues = 1000;
    }
}
