namespace ObjectaLabs.Orleans.FewShot;

/// <summary>
/// Held-out evaluation of selection: some of the pool's tagged examples are held out (a seeded shuffle), each one's
/// question is a request against the rest, and a selection counts as a hit when one of its examples shares a tag with
/// the held-out example (recall@k). A random choice of k from the same rest is the floor any selection must beat.
/// </summary>
public static class FewShotEvaluator
{
    /// <summary>The embedding mode's vectors and each held-out question's vector, when an embeddings endpoint is configured.</summary>
    public sealed record Embeddings(ExampleVectors Vectors, IReadOnlyDictionary<Guid, float[]> Queries);

    /// <summary>The examples held out, in order: a seeded shuffle of the pool's tagged examples, at most half the pool.</summary>
    public static List<IndexedExample> HeldOut(ExampleIndex index, FewShotEvaluationRequest request)
    {
        var pool = Pool(index, request);
        var tagged = pool.Where(e => e.Tags.Length > 0 && e.Question.Length > 0).ToList();
        new Random(request.Seed).Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(tagged));
        return tagged.Take(Math.Min(request.HoldOut, pool.Count / 2)).ToList();
    }

    private static List<IndexedExample> Pool(ExampleIndex index, FewShotEvaluationRequest request) =>
        index.Examples.Where(e => request.AgentId is not { } agent || e.AgentId == agent).OrderBy(e => e.Id).ToList();

    public static FewShotEvaluation Evaluate(ExampleIndex index, FewShotSelector selector, FewShotEvaluationRequest request, Embeddings? embeddings = null)
    {
        var pool = Pool(index, request);
        var heldOut = HeldOut(index, request);
        var random = new Random(request.Seed + 1);
        var excluded = heldOut.Select(e => e.Id).ToHashSet();
        var rest = pool.Where(e => !excluded.Contains(e.Id)).ToList();

        // An organization-wide evaluation asks for no agent's own examples (an id no example carries).
        var agentId = request.AgentId ?? Guid.Empty;
        var lexical = Template(FewShotMode.Lexical, request.K, []);
        var embedding = Template(FewShotMode.Embedding, request.K, []);
        int lexicalHits = 0, randomHits = 0, embeddingHits = 0;
        long lexicalTokens = 0, randomTokens = 0, embeddingTokens = 0;
        foreach (var query in heldOut)
        {
            var chosen = selector.Select(index, new FewShotRequest(agentId, query.Question, lexical, null), excluded);
            lexicalHits += Hit(index, query, chosen) ? 1 : 0;
            lexicalTokens += chosen.ExampleTokens;

            var picks = rest.Count <= request.K ? rest : Enumerable.Range(0, request.K).Select(_ => rest[random.Next(rest.Count)]).DistinctBy(e => e.Id).ToList();
            var drawn = selector.Select(index, new FewShotRequest(agentId, query.Question, Template(FewShotMode.Fixed, request.K, [.. picks.Select(e => e.Id)]), null));
            randomHits += Hit(index, query, drawn) ? 1 : 0;
            randomTokens += drawn.ExampleTokens;

            if (embeddings is not null)
            {
                var vector = embeddings.Queries[query.Id];
                var near = selector.Select(index, new FewShotRequest(agentId, query.Question, embedding, null), excluded,
                    (agent, top, leftOut) => embeddings.Vectors.Search(index, vector, agent, top, leftOut));
                embeddingHits += Hit(index, query, near) ? 1 : 0;
                embeddingTokens += near.ExampleTokens;
            }
        }
        var n = Math.Max(heldOut.Count, 1);
        return new FewShotEvaluation(pool.Count, heldOut.Count, request.K,
        [
            new FewShotModeEvaluation("lexical", Math.Round((double)lexicalHits / n, 4), Math.Round((double)lexicalTokens / n, 1), heldOut.Count),
            new FewShotModeEvaluation("random", Math.Round((double)randomHits / n, 4), Math.Round((double)randomTokens / n, 1), heldOut.Count),
            .. embeddings is null ? Array.Empty<FewShotModeEvaluation>()
                : [new FewShotModeEvaluation("embedding", Math.Round((double)embeddingHits / n, 4), Math.Round((double)embeddingTokens / n, 1), heldOut.Count)],
        ]);
    }

    private static FewShotTemplate Template(FewShotMode mode, int k, IReadOnlyList<Guid> ids) =>
        new(mode, FewShotFormat.Chat, "", "", "", Math.Max(k, ids.Count), FewShotTemplate.MaxTokenBudget, ids, FewShotApplyTo.AllModels, DateTimeOffset.UnixEpoch);

    private static bool Hit(ExampleIndex index, IndexedExample query, FewShotSelection selection) =>
        selection.Examples.Any(c => index.Find(c.Id) is { } e && e.Tags.Intersect(query.Tags, StringComparer.OrdinalIgnoreCase).Any());
}
