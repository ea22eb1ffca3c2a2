using System.Text;
using ObjectaLabs.Orleans.Catalog;
using ObjectaLabs.Orleans.Tokens;

namespace ObjectaLabs.Orleans.FewShot;

/// <summary>
/// Chooses a request's examples from an index and assembles the prompt:
/// <list type="bullet">
/// <item>lexical: the agent's validated examples (the organization's when the agent has none) ranked by BM25 against the
/// user's message; embedding: the same pool ranked by cosine to the message's vector; fixed: the template's examples in
/// its order, those still validated;</item>
/// <item>best first, skipping a near-duplicate of one already chosen (questions sharing at least
/// <see cref="NearDuplicateSimilarity"/> of their terms) and one that would pass the token budget, until k are chosen;</item>
/// <item>tokens counted with the resolved model's tokenizer, each example's count kept with it per rendering.</item>
/// </list>
/// </summary>
public sealed class FewShotSelector(TokenizerCache tokenizers, BaseModelCatalog catalog)
{
    // Token counts of templates' prefixes by tokenizer: the same few texts on every request.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Text, TokenizerKind Kind), int> _prefixTokens = new();

    public const double NearDuplicateSimilarity = 0.8;

    /// <summary>Candidates ranked per example wanted: enough to replace near-duplicates and examples over the budget.</summary>
    public const int CandidatesPerExample = 2;

    /// <summary>
    /// Chooses and assembles. <paramref name="rank"/> ranks a pool (agent id or null, how many, what to leave out) in
    /// place of the lexical index: the embedding mode's nearest vectors.
    /// </summary>
    public FewShotSelection Select(ExampleIndex index, FewShotRequest request, IReadOnlySet<Guid>? excluded = null,
        Func<Guid?, int, IReadOnlySet<Guid>?, List<RankedExample>>? rank = null)
    {
        var template = request.Template;
        var kind = request.BaseModel is { } baseModel
            ? (catalog.Find(baseModel) ?? throw Problems.ProblemException.Invalid("model.baseModel", $"'{baseModel}' is not a base model of the catalog.")).Tokenizer
            : TokenizerKind.O200kBase;
        var counter = new ExampleTokenCounter(tokenizers.Get(kind), kind == TokenizerKind.Approximate);
        var stamp = HashCode.Combine(template.Format, template.ExamplePattern, kind);
        Func<IndexedExample, int> count = template.Format == FewShotFormat.Text
            ? e => counter.Count(Render(template.ExamplePattern, e))
            : e => e.Turns.Sum(t => counter.CountMessage(t.Role, t.Content));

        string pool;
        IEnumerable<(IndexedExample Example, double? Score)> candidates;
        var ranked = 0;
        if (template.Mode == FewShotMode.Fixed)
        {
            pool = "fixed";
            candidates = template.ExampleIds.Select(index.Find).OfType<IndexedExample>().Select(e => (e, (double?)null));
        }
        else
        {
            var own = index.HasExamplesOf(request.AgentId);
            pool = own ? "agent" : "organization";
            var top = template.K * CandidatesPerExample + 4;
            var found = rank is null ? index.Search(request.Message, own ? request.AgentId : null, top, excluded) : rank(own ? request.AgentId : null, top, excluded);
            ranked = found.Count;
            candidates = found.Select(r => (r.Example, (double?)r.Score));
        }

        var chosen = new List<(IndexedExample Example, double? Score, int Tokens)>();
        int tokens = 0, nearDuplicates = 0, overBudget = 0;
        foreach (var (example, score) in candidates)
        {
            if (chosen.Count == template.K)
            {
                break;
            }
            if (template.Mode != FewShotMode.Fixed && chosen.Any(c => c.Example.Similarity(example) >= NearDuplicateSimilarity))
            {
                nearDuplicates++;
                continue;
            }
            var exampleTokens = example.TokensFor(stamp, count);
            if (tokens + exampleTokens > template.TokenBudget)
            {
                overBudget++;
                continue;
            }
            tokens += exampleTokens;
            chosen.Add((example, score, exampleTokens));
        }

        var (messages, prompt) = Assemble(template, chosen.Select(c => c.Example).ToList(), request.Message);
        // Chat: each message counts apart (the cookbook's formula), so the examples' kept counts add up exactly; text:
        // the one prompt message is counted whole.
        var promptTokens = template.Format == FewShotFormat.Text
            ? counter.CountMessages(messages.Select(m => (m.Role, m.Content)))
            : ExampleTokenCounter.ReplyPriming + tokens + counter.CountMessage("user", request.Message)
              + (template.Prefix.Length == 0 ? 0 : PrefixTokens(template.Prefix, kind, counter));
        return new FewShotSelection(template.Mode, pool, kind,
            [.. chosen.Select(c => new ChosenExample(c.Example.Id, c.Score is { } s ? Math.Round(s, 4) : null, c.Example.Tags,
                request.WithExampleTurns ? c.Example.Turns : [], c.Tokens))],
            tokens, template.TokenBudget, request.WithMessages ? messages : [], request.WithMessages ? prompt : null, promptTokens,
            template.Mode == FewShotMode.Fixed ? template.ExampleIds.Count : ranked, nearDuplicates, overBudget);
    }

    private int PrefixTokens(string prefix, TokenizerKind kind, ExampleTokenCounter counter)
    {
        if (_prefixTokens.TryGetValue((prefix, kind), out var known))
        {
            return known;
        }
        if (_prefixTokens.Count > 10_000)
        {
            _prefixTokens.Clear();
        }
        return _prefixTokens[(prefix, kind)] = counter.CountMessage("system", prefix);
    }

    /// <summary>
    /// The prompt as the template draws it. Chat: the prefix as the system message (when there is one), each example's
    /// turns, then the user's message. Text: one user message holding the prefix, each example through the pattern, and
    /// the suffix with the user's message in it, separated by blank lines.
    /// </summary>
    public static (IReadOnlyList<PromptMessage> Messages, string? Prompt) Assemble(FewShotTemplate template, IReadOnlyList<IndexedExample> examples, string message)
    {
        if (template.Format == FewShotFormat.Chat)
        {
            var messages = new List<PromptMessage>();
            if (template.Prefix.Length > 0)
            {
                messages.Add(new PromptMessage("system", template.Prefix));
            }
            foreach (var example in examples)
            {
                messages.AddRange(example.Turns);
            }
            messages.Add(new PromptMessage("user", message));
            return (messages, null);
        }
        var parts = new List<string>();
        if (template.Prefix.Length > 0)
        {
            parts.Add(template.Prefix);
        }
        parts.AddRange(examples.Select(e => Render(template.ExamplePattern, e)));
        parts.Add(Fill(template.Suffix, ("input", message)));
        var prompt = string.Join("\n\n", parts);
        return ([new PromptMessage("user", prompt)], prompt);
    }

    public static string Render(string pattern, IndexedExample example) => Fill(pattern, ("question", example.Question), ("answer", example.Answer));

    /// <summary>Replaces each <c>{name}</c> in one pass, so a value that itself holds <c>{answer}</c> stays as written.</summary>
    public static string Fill(string pattern, params (string Name, string Value)[] values)
    {
        var text = new StringBuilder(pattern.Length + values.Sum(v => v.Value.Length));
        var at = 0;
        while (at < pattern.Length)
        {
            var open = pattern.IndexOf('{', at);
            if (open < 0)
            {
                break;
            }
            var matched = false;
            foreach (var (name, value) in values)
            {
                if (string.CompareOrdinal(pattern, open + 1, name, 0, name.Length) == 0 && open + 1 + name.Length < pattern.Length && pattern[open + 1 + name.Length] == '}')
                {
                    text.Append(pattern, at, open - at).Append(value);
                    at = open + name.Length + 2;
                    matched = true;
                    break;
                }
            }
            if (!matched)
            {
                text.Append(pattern, at, open + 1 - at);
                at = open + 1;
            }
        }
        return text.Append(pattern, at, pattern.Length - at).ToString();
    }
}
