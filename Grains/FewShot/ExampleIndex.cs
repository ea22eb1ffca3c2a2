namespace ObjectaLabs.Orleans.FewShot;

/// <summary>A ranked candidate: an example and its BM25 score for the query.</summary>
public readonly record struct RankedExample(IndexedExample Example, double Score);

/// <summary>
/// An organization's validated examples as an immutable BM25 index (k1 = 1.2, b = 0.75) over their questions, read by
/// any number of threads at once while the grain builds the next one:
/// <list type="bullet">
/// <item>a base segment: per term, the examples holding it in impact order (highest BM25 term weight first), and per
/// example its terms and their weights in two flat arrays (one contiguous slice per example, so scoring a candidate
/// costs one or two cache lines, not a walk through its objects);</item>
/// <item>removals from it as a copied flag array (one copy per change, no locks for readers);</item>
/// <item>a small delta segment of examples added or edited since, scored one by one; past <see cref="MaxDelta"/> the
/// whole index is rebuilt from memory (the same shape as a search engine's segments and merges).</item>
/// </list>
/// A search accumulates scores term by term, the rarest term first, walking each term's postings in impact order but
/// at most <see cref="PostingsPerTerm"/> of them: a rare term is walked whole, a common one only where it weighs most.
/// The best <see cref="RescoredPerResult"/> × the results wanted by that accumulated score are then scored exactly over
/// every query term from their own slices, and ranked by that exact BM25 score. The approximation is in which examples
/// are considered (an example holding none of the query's rare terms, and no common one prominently, is not), never in
/// the score an example is ranked by; it bounds any query's work however common its words.
/// </summary>
public sealed class ExampleIndex
{
    public const int MaxDelta = 256;

    /// <summary>Most postings of one term a search walks (see the class summary).</summary>
    public const int PostingsPerTerm = 500;

    /// <summary>How many candidates per result wanted are scored exactly.</summary>
    public const int RescoredPerResult = 2;
    private const float K1 = 1.2f;
    private const float B = 0.75f;

    private readonly TermDictionary _terms;
    private readonly IndexedExample[] _base;
    private readonly int[] _baseAgent;
    private readonly bool[] _removed;
    private readonly int[][] _postingExamples;
    private readonly float[][] _postingWeights;
    private readonly int[] _sliceStart;
    private readonly int[] _sliceTerms;
    private readonly float[] _sliceWeights;
    private readonly Dictionary<Guid, int> _agentNumbers;
    private readonly Dictionary<Guid, int> _basePosition;
    private readonly IndexedExample[] _delta;
    private readonly Dictionary<Guid, IndexedExample> _live;
    private readonly Dictionary<Guid, int> _liveByAgent;
    private readonly float _averageLength;
    private readonly Dictionary<int, int> _agentCounts = [];

    [ThreadStatic] private static float[]? t_scores;
    [ThreadStatic] private static List<int>? t_seen;

    private ExampleIndex(TermDictionary terms, IndexedExample[] @base, int[] baseAgent, bool[] removed, int[][] postingExamples, float[][] postingWeights,
        (int[] Start, int[] Terms, float[] Weights) slices,
        Dictionary<Guid, int> agentNumbers, Dictionary<Guid, int> basePosition, IndexedExample[] delta, Dictionary<Guid, IndexedExample> live)
    {
        _terms = terms;
        _base = @base;
        _baseAgent = baseAgent;
        _removed = removed;
        _postingExamples = postingExamples;
        _postingWeights = postingWeights;
        foreach (var agent in baseAgent)
        {
            _agentCounts[agent] = _agentCounts.GetValueOrDefault(agent) + 1;
        }
        (_sliceStart, _sliceTerms, _sliceWeights) = slices;
        _agentNumbers = agentNumbers;
        _basePosition = basePosition;
        _delta = delta;
        _live = live;
        long totalLength = 0;
        foreach (var example in @base.Length > 0 ? @base : delta)
        {
            totalLength += example.Length;
        }
        var counted = @base.Length > 0 ? @base.Length : delta.Length;
        _averageLength = counted == 0 ? 1f : Math.Max(1f, (float)totalLength / counted);
        _liveByAgent = [];
        foreach (var example in live.Values)
        {
            if (example.AgentId is { } agent)
            {
                _liveByAgent[agent] = _liveByAgent.GetValueOrDefault(agent) + 1;
            }
        }
        LatestChange = live.Count == 0 ? DateTime.MinValue : live.Values.Max(e => e.UpdatedAt);
    }

    /// <summary>Validated examples held.</summary>
    public int Count => _live.Count;

    /// <summary>Examples in the delta segment (rebuilt into the base past <see cref="MaxDelta"/>).</summary>
    public int DeltaCount => _delta.Length;

    /// <summary>The latest change time of the examples held (with <see cref="Count"/>, what the database is compared with).</summary>
    public DateTime LatestChange { get; }

    public IEnumerable<IndexedExample> Examples => _live.Values;

    public IndexedExample? Find(Guid id) => _live.GetValueOrDefault(id);

    /// <summary>True when the agent has validated examples of its own.</summary>
    public bool HasExamplesOf(Guid agentId) => _liveByAgent.ContainsKey(agentId);

    public static ExampleIndex Build(TermDictionary terms, IEnumerable<IndexedExample> examples)
    {
        var all = examples.ToArray();
        var agentNumbers = new Dictionary<Guid, int>();
        var baseAgent = new int[all.Length];
        var basePosition = new Dictionary<Guid, int>(all.Length);
        var frequency = new int[terms.Count];
        long totalLength = 0;
        for (var i = 0; i < all.Length; i++)
        {
            var example = all[i];
            basePosition[example.Id] = i;
            baseAgent[i] = example.AgentId is { } agent ? agentNumbers.TryGetValue(agent, out var n) ? n : agentNumbers[agent] = agentNumbers.Count + 1 : 0;
            totalLength += example.Length;
            foreach (var term in example.TermIds)
            {
                frequency[term]++;
            }
        }
        var averageLength = all.Length == 0 ? 1f : Math.Max(1f, (float)totalLength / all.Length);
        var sliceStart = new int[all.Length + 1];
        for (var i = 0; i < all.Length; i++)
        {
            sliceStart[i + 1] = sliceStart[i] + all[i].TermIds.Length;
        }
        var sliceTerms = new int[sliceStart[^1]];
        var sliceWeights = new float[sliceStart[^1]];
        var postingExamples = new int[frequency.Length][];
        var postingWeights = new float[frequency.Length][];
        for (var t = 0; t < frequency.Length; t++)
        {
            postingExamples[t] = frequency[t] == 0 ? [] : new int[frequency[t]];
            postingWeights[t] = frequency[t] == 0 ? [] : new float[frequency[t]];
        }
        var filled = new int[frequency.Length];
        for (var i = 0; i < all.Length; i++)
        {
            var example = all[i];
            var weights = Weights(example, averageLength);
            example.TermIds.CopyTo(sliceTerms, sliceStart[i]);
            weights.CopyTo(sliceWeights, sliceStart[i]);
            for (var j = 0; j < example.TermIds.Length; j++)
            {
                var term = example.TermIds[j];
                var at = filled[term]++;
                postingExamples[term][at] = i;
                postingWeights[term][at] = weights[j];
            }
        }
        for (var t = 0; t < frequency.Length; t++)
        {
            // Impact order: the examples where the term weighs most first (ties: the earlier position).
            Array.Sort(postingWeights[t], postingExamples[t], DescendingWeight.Instance);
        }
        return new ExampleIndex(terms, all, baseAgent, new bool[all.Length], postingExamples, postingWeights, (sliceStart, sliceTerms, sliceWeights), agentNumbers, basePosition, [],
            all.ToDictionary(e => e.Id));
    }

    /// <summary>An example's BM25 term weights (without idf), aligned with its term ids.</summary>
    private static float[] Weights(IndexedExample example, float averageLength)
    {
        var norm = K1 * (1 - B + B * example.Length / averageLength);
        var weights = new float[example.TermIds.Length];
        for (var j = 0; j < weights.Length; j++)
        {
            var tf = example.TermCounts[j];
            weights[j] = tf * (K1 + 1) / (tf + norm);
        }
        return weights;
    }

    /// <summary>
    /// The next index: <paramref name="removed"/> gone, <paramref name="upserted"/> added or replacing their earlier
    /// versions. Rebuilt whole when the delta would pass <see cref="MaxDelta"/>.
    /// </summary>
    public ExampleIndex With(IReadOnlyCollection<Guid> removed, IReadOnlyCollection<IndexedExample> upserted)
    {
        var gone = new HashSet<Guid>(removed);
        gone.UnionWith(upserted.Select(e => e.Id));
        var live = new Dictionary<Guid, IndexedExample>(_live);
        foreach (var id in gone)
        {
            live.Remove(id);
        }
        foreach (var example in upserted)
        {
            live[example.Id] = example;
        }
        var delta = _delta.Where(e => !gone.Contains(e.Id)).Concat(upserted).ToArray();
        if (delta.Length > MaxDelta)
        {
            return Build(_terms, live.Values);
        }
        var flags = _removed;
        foreach (var id in gone)
        {
            if (_basePosition.TryGetValue(id, out var position) && !flags[position])
            {
                if (ReferenceEquals(flags, _removed))
                {
                    flags = (bool[])_removed.Clone();
                }
                flags[position] = true;
            }
        }
        return new ExampleIndex(_terms, _base, _baseAgent, flags, _postingExamples, _postingWeights, (_sliceStart, _sliceTerms, _sliceWeights), _agentNumbers, _basePosition, delta, live);
    }

    /// <summary>
    /// The <paramref name="top"/> best examples for <paramref name="text"/> by BM25, best first (ties by id), among the
    /// agent's examples (or all, for a null agent), leaving out <paramref name="excluded"/>.
    /// </summary>
    public List<RankedExample> Search(string text, Guid? agentId, int top, IReadOnlySet<Guid>? excluded = null)
    {
        var query = new List<int>();
        foreach (var term in ExampleTerms.Of(text))
        {
            if (_terms.TryGet(term, out var id) && !query.Contains(id))
            {
                query.Add(id);
            }
        }
        var ranked = new List<RankedExample>(top);
        if (query.Count == 0 || _live.Count == 0 || top <= 0)
        {
            return ranked;
        }
        var agentNumber = agentId is { } a ? _agentNumbers.GetValueOrDefault(a, -1) : 0;

        // The delta's examples that hold a query term (with their counts), and the document frequencies: the base
        // postings (removed examples still counted, as a search engine does until it merges) and the delta's.
        var deltaFrequency = new int[query.Count];
        var deltaCounts = new List<(IndexedExample Example, int[] Counts)>();
        foreach (var example in _delta)
        {
            if (agentId is { } agent && example.AgentId != agent)
            {
                continue;
            }
            int[]? counts = null;
            for (var q = 0; q < query.Count; q++)
            {
                var tf = example.CountOf(query[q]);
                if (tf > 0)
                {
                    counts ??= new int[query.Count];
                    counts[q] = tf;
                    deltaFrequency[q]++;
                }
            }
            if (counts is not null && excluded?.Contains(example.Id) != true)
            {
                deltaCounts.Add((example, counts));
            }
        }
        var n = _base.Length + _delta.Length;
        var idf = new float[query.Count];
        for (var q = 0; q < query.Count; q++)
        {
            var df = (query[q] < _postingExamples.Length ? _postingExamples[query[q]].Length : 0) + deltaFrequency[q];
            idf[q] = (float)Math.Log(1 + (n - df + 0.5) / (df + 0.5));
        }

        // The best so far, by key: a base position (0, 1, …) or a delta example (-1 - its index in deltaCounts).
        var best = new TopScores(top);
        if (agentNumber >= 0 && _base.Length > 0)
        {
            ScoreBase(query, idf, agentNumber, best, excluded);
        }
        for (var d = 0; d < deltaCounts.Count; d++)
        {
            var (example, counts) = deltaCounts[d];
            var norm = K1 * (1 - B + B * example.Length / _averageLength);
            float score = 0;
            for (var q = 0; q < query.Count; q++)
            {
                if (counts[q] > 0)
                {
                    score += idf[q] * (counts[q] * (K1 + 1) / (counts[q] + norm));
                }
            }
            best.Offer(score, -1 - d);
        }
        for (var r = 0; r < best.Count; r++)
        {
            var key = best.Keys[r];
            ranked.Add(new RankedExample(key >= 0 ? _base[key] : deltaCounts[-1 - key].Example, best.Scores[r]));
        }
        return ranked;
    }

    /// <summary>The highest scores offered and their keys, best first (ties: the lower key first), kept in a small sorted array.</summary>
    private sealed class TopScores(int capacity)
    {
        public int Capacity => Scores.Length;
        public readonly float[] Scores = new float[capacity];
        public readonly int[] Keys = new int[capacity];
        public int Count;

        public void Offer(float score, int key)
        {
            if (Count == Scores.Length && !Better(score, key, Scores[Count - 1], Keys[Count - 1]))
            {
                return;
            }
            var at = Count == Scores.Length ? Count - 1 : Count++;
            while (at > 0 && Better(score, key, Scores[at - 1], Keys[at - 1]))
            {
                Scores[at] = Scores[at - 1];
                Keys[at] = Keys[at - 1];
                at--;
            }
            Scores[at] = score;
            Keys[at] = key;
        }

        private static bool Better(float score, int key, float otherScore, int otherKey) => score > otherScore || (score == otherScore && key < otherKey);
    }

    /// <summary>Scores the base segment's examples for the query into <paramref name="best"/> (see the class summary).</summary>
    private void ScoreBase(List<int> query, float[] idf, int agentNumber, TopScores best, IReadOnlySet<Guid>? excluded)
    {
        var scores = t_scores is { } s && s.Length >= _base.Length ? s : t_scores = new float[Math.Max(_base.Length, 1024)];
        var seen = t_seen ??= [];
        seen.Clear();
        // An agent that holds every example needs no filter.
        if (agentNumber != 0 && _agentCounts.GetValueOrDefault(agentNumber) == _base.Length)
        {
            agentNumber = 0;
        }
        var anyRemoved = _live.Count - _delta.Length < _base.Length;
        foreach (var q in Enumerable.Range(0, query.Count).Where(q => query[q] < _postingExamples.Length).OrderByDescending(q => idf[q]))
        {
            var examples = _postingExamples[query[q]];
            var weights = _postingWeights[query[q]];
            var weight = idf[q];
            for (int i = 0, walk = Math.Min(examples.Length, PostingsPerTerm); i < walk; i++)
            {
                var position = examples[i];
                if ((anyRemoved && _removed[position]) || (agentNumber != 0 && _baseAgent[position] != agentNumber)
                    || (excluded is not null && excluded.Contains(_base[position].Id)))
                {
                    continue;
                }
                if (scores[position] == 0)
                {
                    seen.Add(position);
                }
                scores[position] += weight * weights[i];
            }
        }
        var candidates = new TopScores(best.Capacity * RescoredPerResult);
        foreach (var position in seen)
        {
            candidates.Offer(scores[position], position);
            scores[position] = 0;
        }
        // Exact BM25 for the candidates: the query's terms ascending, merged with each one's (ascending) slice.
        var byTerm = Enumerable.Range(0, query.Count).OrderBy(q => query[q]).ToArray();
        var terms = byTerm.Select(q => query[q]).ToArray();
        var termIdf = byTerm.Select(q => idf[q]).ToArray();
        for (var c = 0; c < candidates.Count; c++)
        {
            var position = candidates.Keys[c];
            float score = 0;
            int i = _sliceStart[position], end = _sliceStart[position + 1], j = 0;
            while (i < end && j < terms.Length)
            {
                var term = _sliceTerms[i];
                if (term == terms[j])
                {
                    score += termIdf[j] * _sliceWeights[i];
                    i++;
                    j++;
                }
                else if (term < terms[j])
                {
                    i++;
                }
                else
                {
                    j++;
                }
            }
            best.Offer(score, position);
        }
    }

    /// <summary>Sorts weights (and their positions with them) highest first.</summary>
    private sealed class DescendingWeight : IComparer<float>
    {
        public static readonly DescendingWeight Instance = new();

        public int Compare(float x, float y) => y.CompareTo(x);
    }

}
