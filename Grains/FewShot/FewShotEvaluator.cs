namespace ObjectaLabs.Orleans.FewShot;

/// <summary>
/// Held-out evaluation of selection: some of the pool's tagged examples are held out (a seeded shuffle), each one's
/// question is a request against the rest, and a selection counts as a hit when one of its examples shares a tag with
/// the held-out example (recall@k). A random choice of k from the same rest is the floor any selection must beat.
/// </summary>
public static class FewShotEvaluator
{
    public static FewShotEvaluation Evaluate(ExampleIndex index, FewShotSelector selector, FewShotEvaluationRequest request)
    {
        var pool = index.Examples.Where(e => request.AgentId is not { } agent || e.AgentId == agent).OrderBy(e => e.Id).ToList();
        var random = new Random(request.Seed);
        var tagged = pool.Where(e => e.Tags.Length > 0 && e.Question.Length > 0).ToList();
        random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(tagged));
        var heldOut = tagged.Take(Math.Min(request.HoldOut, pool.Count / 2)).ToList();
        var excluded = heldOut.Select(e => e.Id).ToHashSet();
        var rest = pool.Where(e => !excluded.Contains(e.Id)).ToList();

        // An organization-wide evaluation asks for no agent's own examples (an id no example carries).
        var agentId = request.AgentId ?? Guid.Empty;
        var lexical = Template(FewShotMode.Lexical, request.K, []);
        int lexicalHits = 0, randomHits = 0;
        long lexicalTokens = 0, randomTokens = 0;
        foreach (var query in heldOut)
        {
            var chosen = selector.Select(index, new FewShotRequest(agentId, query.Question, lexical, null), excluded);
            lexicalHits += Hit(index, query, chosen) ? 1 : 0;
            lexicalTokens += chosen.ExampleTokens;

            var picks = rest.Count <= request.K ? rest : Enumerable.Range(0, request.K).Select(_ => rest[random.Next(rest.Count)]).DistinctBy(e => e.Id).ToList();
            var drawn = selector.Select(index, new FewShotRequest(agentId, query.Question, Template(FewShotMode.Fixed, request.K, [.. picks.Select(e => e.Id)]), null));
            randomHits += Hit(index, query, drawn) ? 1 : 0;
            randomTokens += drawn.ExampleTokens;
        }
        var n = Math.Max(heldOut.Count, 1);
        return new FewShotEvaluation(pool.Count, heldOut.Count, request.K,
        [
            new FewShotModeEvaluation("lexical", Math.Round((double)lexicalHits / n, 4), Math.Round((double)lexicalTokens / n, 1), heldOut.Count),
            new FewShotModeEvaluation("random", Math.Round((double)randomHits / n, 4), Math.Round((double)randomTokens / n, 1), heldOut.Count),
        ]);
    }

    private static FewShotTemplate Template(FewShotMode mode, int k, IReadOnlyList<Guid> ids) =>
        new(mode, FewShotFormat.Chat, "", "", "", Math.Max(k, ids.Count), FewShotTemplate.MaxTokenBudget, ids, FewShotApplyTo.AllModels, DateTimeOffset.UnixEpoch);

    private static bool Hit(ExampleIndex index, IndexedExample query, FewShotSelection selection) =>
        selection.Examples.Any(c => index.Find(c.Id) is { } e && e.Tags.Intersect(query.Tags, StringComparer.OrdinalIgnoreCase).Any());
}
