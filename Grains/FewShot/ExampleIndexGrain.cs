using ObjectaLabs.Orleans.Examples;
using ObjectaLabs.Orleans.Problems;

namespace ObjectaLabs.Orleans.FewShot;

/// <summary>
/// One organization's selectable examples in memory (see <see cref="IExampleIndexGrain"/>). Loaded when a template is set
/// (<see cref="WarmAsync"/>) or by the first selection, not on activation, so an edit never loads an index nobody
/// selects from. Selections run on the thread pool
/// against the index they started with (interleaved, so they use every core); changes build the next index one at a time
/// and swap it in. A check every <see cref="Recheck"/> compares the count and latest change with the database and
/// reloads on a difference: the safety net for a change whose notice was lost.
/// </summary>
public sealed class ExampleIndexGrain(ExampleRows rows, FewShotSelector selector, ExampleEmbedder embedder, ExampleEmbeddingRows embeddingRows,
    ILogger<ExampleIndexGrain> logger)
    : Grain, IExampleIndexGrain
{
    public static readonly TimeSpan Recheck = TimeSpan.FromSeconds(30);

    private readonly TermDictionary _terms = new();

    // One writer at a time builds the next index (a change, or a load and the changes that arrived during it).
    private readonly SemaphoreSlim _writer = new(1, 1);
    private volatile ExampleIndex? _index;
    private Task<ExampleIndex>? _loading;
    private HashSet<Guid>? _changedDuringLoad;
    private IGrainTimer? _recheck;

    // The embedding mode's vectors, brought up to date with an index (only the examples missing one are embedded).
    private volatile ExampleVectors _vectors = ExampleVectors.Empty;
    private ExampleIndex? _vectorsFor;
    private Task? _embedding;
    private bool _storedVectorsRead;

    private Guid OrganizationId => this.GetPrimaryKey();

    public async Task<FewShotSelection> SelectAsync(FewShotRequest request)
    {
        var index = _index ?? await LoadAsync();
        if (request.Template.Mode != FewShotMode.Embedding)
        {
            return await Task.Run(() => selector.Select(index, request));
        }
        var vectors = await VectorsAsync(index);
        var query = (await embedder.EmbedAsync([request.Message]))[0];
        return await Task.Run(() => selector.Select(index, request, rank: (agent, top, excluded) => vectors.Search(index, query, agent, top, excluded)));
    }

    public async Task<IReadOnlyList<FewShotOutcome>> SelectManyAsync(IReadOnlyList<FewShotRequest> requests)
    {
        if (requests.Any(r => r.Template.Mode == FewShotMode.Embedding))
        {
            throw new ArgumentException("Embedding-mode selections embed their message first: send them one at a time (SelectAsync).", nameof(requests));
        }
        var index = _index ?? await LoadAsync();
        var outcomes = new FewShotOutcome[requests.Count];
        // Off the grain's scheduler, over the cores: the index is immutable, so selections share it without locks.
        await Task.Run(() => Parallel.For(0, requests.Count, i =>
        {
            try
            {
                outcomes[i] = new FewShotOutcome(selector.Select(index, requests[i]), null);
            }
            catch (ProblemException problem)
            {
                outcomes[i] = new FewShotOutcome(null, problem);
            }
        }));
        return outcomes;
    }

    /// <summary>The vectors for <paramref name="index"/>: the examples with none (new, or with an edited question) are embedded first, in batches.</summary>
    private async Task<ExampleVectors> VectorsAsync(ExampleIndex index)
    {
        while (!ReferenceEquals(_vectorsFor, index))
        {
            await (_embedding is { IsCompleted: false } running ? running : _embedding = EmbedMissingAsync(index));
            if (!ReferenceEquals(_vectorsFor, index) && !ReferenceEquals(_index, index))
            {
                break; // a newer index came meanwhile: these vectors serve this request; the next one brings them up to date
            }
        }
        return _vectors;
    }

    private async Task EmbedMissingAsync(ExampleIndex index)
    {
        if (!_storedVectorsRead)
        {
            // Vectors stored by an earlier activation or another silo, for the same model and the same question text.
            var stored = await embeddingRows.LoadAsync(OrganizationId, embedder.ModelKey);
            var reused = index.Examples.Where(e => stored.TryGetValue(e.Id, out var held) && held.Vector.Length == embedder.Dimensions
                && held.QuestionSha256.AsSpan().SequenceEqual(ExampleEmbeddingRows.HashOf(e.Question))).ToList();
            _vectors = _vectors.With(reused, [.. reused.Select(e => stored[e.Id].Vector)], index);
            _storedVectorsRead = true;
        }
        var missing = index.Examples.Where(e => !_vectors.Covers(e)).ToList();
        var embedded = missing.Count == 0 ? [] : await embedder.EmbedAsync([.. missing.Select(e => e.Question)]);
        await embeddingRows.SaveAsync(OrganizationId, embedder.ModelKey, [.. missing.Select((e, i) => (e.Id, e.Question, embedded[i]))]);
        _vectors = _vectors.With(missing, embedded, index);
        _vectorsFor = index;
        if (missing.Count > 0)
        {
            logger.LogInformation("Organization {OrganizationId}: {Count} examples embedded with {Model}", OrganizationId, missing.Count, embedder.Describe);
        }
    }

    public async Task WarmAsync(bool withVectors)
    {
        var index = _index ?? await LoadAsync();
        if (withVectors && embedder.Configured)
        {
            await VectorsAsync(index);
        }
    }

    public async Task<IReadOnlyList<Guid>> MissingAsync(IReadOnlyList<Guid> exampleIds)
    {
        var index = _index ?? await LoadAsync();
        return [.. exampleIds.Where(id => index.Find(id) is null)];
    }

    public async Task ExamplesChangedAsync(IReadOnlyList<Guid> exampleIds)
    {
        if (exampleIds.Count == 0)
        {
            return;
        }
        if (_loading is { IsCompleted: false })
        {
            // Read again once the load is in: the load may have read them before this change.
            (_changedDuringLoad ??= []).UnionWith(exampleIds);
        }
        if (_index is null)
        {
            return; // not loaded: the load reads them as they are
        }
        await _writer.WaitAsync();
        try
        {
            await ApplyAsync(exampleIds);
        }
        finally
        {
            _writer.Release();
        }
    }

    public async Task<FewShotEvaluation> EvaluateAsync(FewShotEvaluationRequest request)
    {
        var index = _index ?? await LoadAsync();
        FewShotEvaluator.Embeddings? embeddings = null;
        if (embedder.Configured)
        {
            var vectors = await VectorsAsync(index);
            var heldOut = FewShotEvaluator.HeldOut(index, request);
            var queries = await embedder.EmbedAsync([.. heldOut.Select(e => e.Question)]);
            embeddings = new(vectors, heldOut.Select((e, i) => (e.Id, queries[i])).ToDictionary(p => p.Id, p => p.Item2));
        }
        return await Task.Run(() => FewShotEvaluator.Evaluate(index, selector, request, embeddings));
    }

    /// <summary>Reads the examples again and builds the next index: those still validated replace their earlier versions, the others go.</summary>
    private async Task ApplyAsync(IReadOnlyCollection<Guid> exampleIds)
    {
        var found = new List<SelectableRow>();
        await foreach (var row in rows.SelectableAsync(OrganizationId, [.. exampleIds.Distinct()]))
        {
            found.Add(row);
        }
        var current = _index!;
        var removed = exampleIds.Except(found.Select(r => r.Id)).ToList();
        _index = await Task.Run(() => current.With(removed, [.. found.Select(r => IndexedExample.Create(r, _terms))]));
        logger.LogDebug("Organization {OrganizationId}: few-shot index of {Count} examples after {Changed} changed", OrganizationId, _index.Count, exampleIds.Count);
    }

    private Task<ExampleIndex> LoadAsync() => _loading is { IsCompleted: false } loading ? loading : _loading = LoadOnceAsync();

    private async Task<ExampleIndex> LoadOnceAsync()
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var found = new List<SelectableRow>();
        await foreach (var row in rows.SelectableAsync(OrganizationId, null))
        {
            found.Add(row);
        }
        var built = await Task.Run(() => ExampleIndex.Build(_terms, [.. found.Select(r => IndexedExample.Create(r, _terms))]));
        await _writer.WaitAsync();
        try
        {
            _index = built;
            if (_changedDuringLoad is { Count: > 0 } changed)
            {
                _changedDuringLoad = null;
                await ApplyAsync(changed);
            }
        }
        finally
        {
            _writer.Release();
        }
        _recheck ??= this.RegisterGrainTimer(RecheckAsync, new GrainTimerCreationOptions(Recheck, Recheck));
        logger.LogInformation("Organization {OrganizationId}: few-shot index of {Count} validated examples loaded in {Elapsed:F0} ms",
            OrganizationId, built.Count, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return _index!;
    }

    private async Task RecheckAsync(CancellationToken cancellationToken)
    {
        if (_index is not { } index || _loading is { IsCompleted: false })
        {
            return;
        }
        var (count, latest) = await rows.SelectableFingerprintAsync(OrganizationId);
        if (count != index.Count || (latest ?? DateTime.MinValue) != index.LatestChange)
        {
            logger.LogWarning("Organization {OrganizationId}: few-shot index ({Held} examples) differs from the database ({Count}); reloading", OrganizationId, index.Count, count);
            await LoadAsync();
        }
    }
}
