namespace ObjectaLabs.Orleans.FewShot;

/// <summary>A ranked candidate: an example and its BM25 score for the query.</summary>
public readonly record struct RankedExample(IndexedExample Example, double Score);

/// <summary>
/// An organization's validated examples as an immutable BM25 index (k1 = 1.2, b = 0.75) over their questions, read by
/// any number of threads at once while the grain builds the next one:
/// <list type="bullet">
/// <item>a base segment: postings per term (example positions and precomputed term weights), built in one pass;</item>
/// <item>removals from it as a copied flag array (one copy per change, no locks for readers);</item>
/// <item>a small delta segment of examples added or edited since, scored one by one; past <see cref="MaxDelta"/> the
/// whole index is rebuilt (the same shape as a search engine's segments and merges).</item>
/// </list>
/// </summary>
public sealed class ExampleIndex
{
    public const int MaxDelta = 2_000;
    private const float K1 = 1.2f;
    private const float B = 0.75f;

    private readonly TermDictionary _terms;
    private readonly IndexedExample[] _base;
    private readonly int[] _baseAgent;
    private readonly bool[] _removed;
    private readonly int[][] _postingExamples;
    private readonly float[][] _postingWeights;
    private readonly Dictionary<Guid, int> _agentNumbers;
    private readonly Dictionary<Guid, int> _basePosition;
    private readonly IndexedExample[] _delta;
    private readonly Dictionary<Guid, IndexedExample> _live;
    private readonly Dictionary<Guid, int> _liveByAgent;
    private readonly float _averageLength;

    [ThreadStatic] private static float[]? t_scores;
    [ThreadStatic] private static List<int>? t_touched;

    private ExampleIndex(TermDictionary terms, IndexedExample[] @base, int[] baseAgent, bool[] removed, int[][] postingExamples, float[][] postingWeights,
        Dictionary<Guid, int> agentNumbers, Dictionary<Guid, int> basePosition, IndexedExample[] delta, Dictionary<Guid, IndexedExample> live)
    {
        _terms = terms;
        _base = @base;
        _baseAgent = baseAgent;
        _removed = removed;
        _postingExamples = postingExamples;
        _postingWeights = postingWeights;
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

    public TermDictionary Terms => _terms;

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
            var norm = K1 * (1 - B + B * example.Length / averageLength);
            for (var j = 0; j < example.TermIds.Length; j++)
            {
                var term = example.TermIds[j];
                var tf = example.TermCounts[j];
                var at = filled[term]++;
                postingExamples[term][at] = i;
                postingWeights[term][at] = tf * (K1 + 1) / (tf + norm);
            }
        }
        return new ExampleIndex(terms, all, baseAgent, new bool[all.Length], postingExamples, postingWeights, agentNumbers, basePosition, [],
            all.ToDictionary(e => e.Id));
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
        return new ExampleIndex(_terms, _base, _baseAgent, flags, _postingExamples, _postingWeights, _agentNumbers, _basePosition, delta, live);
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
        var ranked = new List<RankedExample>();
        if (query.Count == 0 || _live.Count == 0 || top <= 0)
        {
            return ranked;
        }
        var agentNumber = agentId is { } a ? _agentNumbers.GetValueOrDefault(a, -1) : 0;

        // Document frequencies: the base postings (removed examples still counted, as a search engine does until it
        // merges) and the delta's matches.
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

        var heap = new PriorityQueue<IndexedExample, (double Score, Guid Id)>(top + 1, WorstFirst.Instance);
        void Offer(IndexedExample example, double score)
        {
            if (heap.Count < top)
            {
                heap.Enqueue(example, (score, example.Id));
            }
            else if (heap.TryPeek(out _, out var worst) && WorstFirst.Instance.Compare((score, example.Id), worst) > 0)
            {
                heap.EnqueueDequeue(example, (score, example.Id));
            }
        }

        if (agentNumber >= 0 && _base.Length > 0)
        {
            var scores = t_scores is { } s && s.Length >= _base.Length ? s : t_scores = new float[Math.Max(_base.Length, 1024)];
            var touched = t_touched ??= [];
            touched.Clear();
            for (var q = 0; q < query.Count; q++)
            {
                if (query[q] >= _postingExamples.Length)
                {
                    continue;
                }
                var examples = _postingExamples[query[q]];
                var weights = _postingWeights[query[q]];
                var weight = idf[q];
                for (var i = 0; i < examples.Length; i++)
                {
                    var position = examples[i];
                    if (_removed[position] || (agentNumber != 0 && _baseAgent[position] != agentNumber))
                    {
                        continue;
                    }
                    if (scores[position] == 0)
                    {
                        touched.Add(position);
                    }
                    scores[position] += weight * weights[i];
                }
            }
            foreach (var position in touched)
            {
                var score = scores[position];
                scores[position] = 0;
                var example = _base[position];
                if (excluded?.Contains(example.Id) != true)
                {
                    Offer(example, score);
                }
            }
        }
        var averageLength = _averageLength;
        foreach (var (example, counts) in deltaCounts)
        {
            var norm = K1 * (1 - B + B * example.Length / averageLength);
            double score = 0;
            for (var q = 0; q < query.Count; q++)
            {
                if (counts[q] > 0)
                {
                    score += idf[q] * (counts[q] * (K1 + 1) / (counts[q] + norm));
                }
            }
            Offer(example, score);
        }
        while (heap.TryDequeue(out var example, out var key))
        {
            ranked.Add(new RankedExample(example, key.Score));
        }
        ranked.Reverse();
        return ranked;
    }

    /// <summary>Orders candidates worst first: lower score, then (for ties) higher id, so the best are kept deterministically.</summary>
    private sealed class WorstFirst : IComparer<(double Score, Guid Id)>
    {
        public static readonly WorstFirst Instance = new();

        public int Compare((double Score, Guid Id) x, (double Score, Guid Id) y)
        {
            var c = x.Score.CompareTo(y.Score);
            return c != 0 ? c : y.Id.CompareTo(x.Id);
        }
    }
}
