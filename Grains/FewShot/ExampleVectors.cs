using System.Numerics.Tensors;

namespace ObjectaLabs.Orleans.FewShot;

/// <summary>
/// The embedding mode's vectors: one unit vector per example question, kept with the question it was taken from (an
/// edited question needs a new one). Immutable: a change builds the next set. Search is exact: the cosine (a dot
/// product of unit vectors, SIMD) with every candidate, about 0.1 ms per 1,000 examples at 256 dimensions.
/// </summary>
public sealed class ExampleVectors
{
    private readonly Dictionary<Guid, (string Question, float[] Vector)> _vectors;

    private ExampleVectors(Dictionary<Guid, (string Question, float[] Vector)> vectors) => _vectors = vectors;

    public static ExampleVectors Empty { get; } = new([]);

    public int Count => _vectors.Count;

    /// <summary>True when the example's current question has its vector.</summary>
    public bool Covers(IndexedExample example) =>
        _vectors.TryGetValue(example.Id, out var held) && string.Equals(held.Question, example.Question, StringComparison.Ordinal);

    /// <summary>The next set: the examples' new vectors added, and only the examples <paramref name="live"/> holds kept.</summary>
    public ExampleVectors With(IReadOnlyList<IndexedExample> examples, IReadOnlyList<float[]> vectors, ExampleIndex live)
    {
        var next = new Dictionary<Guid, (string, float[])>(_vectors.Count + examples.Count);
        foreach (var (id, held) in _vectors)
        {
            if (live.Find(id) is not null)
            {
                next[id] = held;
            }
        }
        for (var i = 0; i < examples.Count; i++)
        {
            next[examples[i].Id] = (examples[i].Question, vectors[i]);
        }
        return new ExampleVectors(next);
    }

    /// <summary>The <paramref name="top"/> examples nearest <paramref name="query"/>, best first, among the agent's (or all, for null), leaving out <paramref name="excluded"/>.</summary>
    public List<RankedExample> Search(ExampleIndex index, float[] query, Guid? agentId, int top, IReadOnlySet<Guid>? excluded = null)
    {
        var heap = new PriorityQueue<IndexedExample, (float Score, Guid Id)>(top + 1,
            Comparer<(float Score, Guid Id)>.Create((x, y) => x.Score != y.Score ? x.Score.CompareTo(y.Score) : y.Id.CompareTo(x.Id)));
        foreach (var example in index.Examples)
        {
            if ((agentId is { } agent && example.AgentId != agent) || excluded?.Contains(example.Id) == true
                || !_vectors.TryGetValue(example.Id, out var held) || !string.Equals(held.Question, example.Question, StringComparison.Ordinal)
                || held.Vector.Length != query.Length)
            {
                continue;
            }
            var score = TensorPrimitives.Dot(held.Vector, query);
            if (heap.Count < top)
            {
                heap.Enqueue(example, (score, example.Id));
            }
            else if (heap.TryPeek(out _, out var worst) && (score > worst.Score || (score == worst.Score && example.Id.CompareTo(worst.Id) < 0)))
            {
                heap.EnqueueDequeue(example, (score, example.Id));
            }
        }
        var ranked = new List<RankedExample>(heap.Count);
        while (heap.TryDequeue(out var example, out var key))
        {
            ranked.Add(new RankedExample(example, key.Score));
        }
        ranked.Reverse();
        return ranked;
    }
}
