using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ObjectaLabs.Orleans.Catalog;
using ObjectaLabs.Orleans.Examples;
using ObjectaLabs.Orleans.Tokens;

namespace ObjectaLabs.Orleans.Quality;

/// <summary>
/// Builds the quality report over a stream of examples: one pass, keeping per example only its id,
/// figures and two hashes, so large sets are not held in memory.
/// </summary>
public sealed class QualityAnalyzer(TokenizerCache tokenizers)
{
    public const int CannotTrainBelow = 10;
    public const int NotAdvisedBelow = 100;
    public const int RecommendedFrom = 500;
    public const int MaxPersonalDataFindings = 1000;
    // Groups (tags or agents) count as unbalanced when the largest is more than this many times the smallest.
    public const double ImbalanceRatio = 3.0;

    public async Task<QualityReport> AnalyzeAsync(BaseModel model, IAsyncEnumerable<TrainingExample> examples, DateOnly today)
    {
        var counter = ExampleTokenCounter.For(model, tokenizers);
        var tokens = new List<int>();
        var messageCounts = new List<int>();
        var overLimit = new List<Guid>();
        var exact = new Dictionary<string, List<Guid>>(StringComparer.Ordinal);
        var near = new Dictionary<string, List<Guid>>(StringComparer.Ordinal);
        var personal = new List<PersonalDataFinding>();
        var byTag = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var byAgent = new SortedDictionary<string, int>(StringComparer.Ordinal);
        int missingSystem = 0, missingUser = 0, personalTotal = 0;
        long total = 0;

        await foreach (var example in examples)
        {
            using var document = JsonDocument.Parse(example.Example);
            var root = document.RootElement;
            var count = counter.CountExample(root);
            tokens.Add(count);
            total += count;
            var messages = root.GetProperty("messages");
            messageCounts.Add(messages.GetArrayLength());
            if (model.MaxTrainingExampleTokens is { } limit && count > limit)
            {
                overLimit.Add(example.Id);
            }
            var roles = messages.EnumerateArray().Select(m => m.GetProperty("role").GetString()).ToHashSet();
            missingSystem += roles.Contains("system") ? 0 : 1;
            missingUser += roles.Contains("user") ? 0 : 1;
            // Stored examples are unique by content hash, so "exact" compares the message text alone
            // (roles and contents), ignoring weights, names and tools.
            Add(exact, Hash(string.Join('\n', ExampleText.Texts(root).Select(t => $"{t.Role}:{t.Text}"))), example.Id);
            Add(near, Hash(ExampleText.Normalized(root)), example.Id);
            foreach (var (path, _, text) in ExampleText.Texts(root))
            {
                foreach (var match in PersonalDataScanner.Scan(text))
                {
                    personalTotal++;
                    if (personal.Count < MaxPersonalDataFindings)
                    {
                        personal.Add(new PersonalDataFinding(example.Id, path, match.Kind, PersonalDataScanner.Mask(text.Substring(match.Index, match.Length))));
                    }
                }
            }
            foreach (var tag in example.Tags)
            {
                byTag[tag] = byTag.GetValueOrDefault(tag) + 1;
            }
            var agent = example.AgentId?.ToString() ?? "(none)";
            byAgent[agent] = byAgent.GetValueOrDefault(agent) + 1;
        }

        var exactGroups = Groups(exact);
        // A near-duplicate group is reported only when its members are not all one exact group already.
        var nearGroups = Groups(near).Where(g => !exactGroups.Any(e => e.Count == g.Count && !e.Except(g).Any())).ToList();
        var n = tokens.Count;
        var verdicts = Verdicts(model, today, n, overLimit.Count, exactGroups, nearGroups, missingUser, personalTotal, byTag, byAgent, counter.Approximate);
        return new QualityReport(model.Id, counter.Approximate, model.MaxTrainingExampleTokens, n,
            Distribute(tokens), Distribute(messageCounts), total, overLimit, missingSystem, missingUser,
            exactGroups, nearGroups, personal, byTag, byAgent, verdicts);
    }

    private static List<QualityVerdict> Verdicts(BaseModel model, DateOnly today, int n, int overLimit,
        List<IReadOnlyList<Guid>> exact, List<IReadOnlyList<Guid>> near, int missingUser, int personal,
        IReadOnlyDictionary<string, int> byTag, IReadOnlyDictionary<string, int> byAgent, bool approximate)
    {
        var v = new List<QualityVerdict>();
        if (n < CannotTrainBelow)
        {
            v.Add(new("cannot_train", VerdictLevel.Blocker, $"{n} examples: at least {CannotTrainBelow} are needed to train at all."));
        }
        else if (n < NotAdvisedBelow)
        {
            v.Add(new("not_advised", VerdictLevel.Warning, $"{n} examples: with fewer than {NotAdvisedBelow}, fine-tuning is not advised; try few-shot prompting or RAG."));
        }
        else if (n < RecommendedFrom)
        {
            v.Add(new("below_recommended", VerdictLevel.Warning, $"{n} examples: enough to train, but {RecommendedFrom} or more are recommended."));
        }
        else
        {
            v.Add(new("enough_examples", VerdictLevel.Ok, $"{n} examples: at or above the recommended {RecommendedFrom}."));
        }
        if (!model.FineTunable)
        {
            v.Add(new("model_not_fine_tunable", VerdictLevel.Blocker, $"{model.Id} cannot be fine-tuned."));
        }
        if (model.ShutdownDate is { } shutdown)
        {
            v.Add(shutdown <= today
                ? new("model_shut_down", VerdictLevel.Blocker, $"{model.Id} was shut down on {shutdown:yyyy-MM-dd}.")
                : new("model_shutdown_scheduled", VerdictLevel.Warning, $"{model.Id} shuts down on {shutdown:yyyy-MM-dd}, and its fine-tunes with it."));
        }
        if (model.MaxTrainingExampleTokens is null)
        {
            v.Add(new("token_limit_unknown", VerdictLevel.Warning, $"{model.Id}'s training-example token limit is not published in our sources, so no example was checked against it."));
        }
        else if (overLimit > 0)
        {
            v.Add(new("over_token_limit", VerdictLevel.Warning, $"{overLimit} examples exceed {model.MaxTrainingExampleTokens} tokens and will be truncated."));
        }
        if (approximate)
        {
            v.Add(new("approximate_tokens", VerdictLevel.Warning, $"{model.Id} has no exact tokenizer here; token counts are approximate (o200k_base)."));
        }
        if (exact.Count > 0)
        {
            v.Add(new("exact_duplicates", VerdictLevel.Warning, $"{exact.Sum(g => g.Count - 1)} examples duplicate another exactly; remove duplicates."));
        }
        if (near.Count > 0)
        {
            v.Add(new("near_duplicates", VerdictLevel.Warning, $"{near.Sum(g => g.Count - 1)} examples differ from another only in case, spacing or punctuation."));
        }
        if (missingUser > 0)
        {
            v.Add(new("missing_user", VerdictLevel.Warning, $"{missingUser} examples have no user message."));
        }
        if (personal > 0)
        {
            v.Add(new("personal_data", VerdictLevel.Warning, $"{personal} suspected pieces of personal data (e-mail, phone, card numbers); review or redact them."));
        }
        Balance(v, "tags", byTag);
        Balance(v, "agents", byAgent);
        return v;
    }

    private static void Balance(List<QualityVerdict> verdicts, string what, IReadOnlyDictionary<string, int> groups)
    {
        if (groups.Count < 2)
        {
            return;
        }
        var largest = groups.MaxBy(g => g.Value);
        var smallest = groups.MinBy(g => g.Value);
        if (largest.Value > ImbalanceRatio * smallest.Value)
        {
            verdicts.Add(new($"unbalanced_{what}", VerdictLevel.Warning,
                $"Unbalanced {what}: '{largest.Key}' has {largest.Value} examples, '{smallest.Key}' only {smallest.Value}; balance the kinds of questions."));
        }
        else
        {
            verdicts.Add(new($"balanced_{what}", VerdictLevel.Ok, $"{groups.Count} {what}, between {smallest.Value} and {largest.Value} examples each."));
        }
    }

    /// <summary>Min, nearest-rank median and p90, max and mean.</summary>
    public static Distribution Distribute(List<int> values)
    {
        if (values.Count == 0)
        {
            return Distribution.Empty;
        }
        values.Sort();
        int Rank(double q) => values[Math.Max(0, (int)Math.Ceiling(q * values.Count) - 1)];
        return new Distribution(values[0], Rank(0.5), Rank(0.9), values[^1], Math.Round(values.Average(), 2));
    }

    private static List<IReadOnlyList<Guid>> Groups(Dictionary<string, List<Guid>> byHash) =>
        byHash.Values.Where(g => g.Count > 1).Select(g => (IReadOnlyList<Guid>)g).ToList();

    private static void Add(Dictionary<string, List<Guid>> map, string key, Guid id)
    {
        if (!map.TryGetValue(key, out var list))
        {
            map[key] = list = [];
        }
        list.Add(id);
    }

    private static string Hash(string text) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
