using System.Runtime.CompilerServices;
using ObjectaLabs.Orleans.Examples;
using ObjectaLabs.Orleans.Problems;

namespace ObjectaLabs.Orleans.Export;

/// <summary>Streams validated examples as JSONL lines, optionally one agent's and one part of a seeded split.</summary>
public sealed class ExampleExporter(ExampleRows rows)
{
    public async Task<SplitSummary> SplitAsync(Guid organizationId, Guid? agentId, SplitOptions split)
    {
        var ids = await rows.ValidatedIdsAsync(organizationId, agentId);
        var (validation, reason) = TrainValidationSplit.Validation(ids, split);
        return new SplitSummary(ids.Count - validation.Count, validation.Count, reason);
    }

    /// <summary>
    /// The lines, streamed from the database. A split first reads only the validated ids (16 bytes
    /// each) to rank them; the examples themselves are never all in memory.
    /// </summary>
    public async IAsyncEnumerable<string> ExportAsync(Guid organizationId, ExportRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        HashSet<Guid>? validation = null;
        if (request.Split is { } split)
        {
            validation = TrainValidationSplit.Validation(await rows.ValidatedIdsAsync(organizationId, request.AgentId), split).Validation;
        }
        else if (request.Part is not null)
        {
            throw ProblemException.Invalid("part", "Choosing a part needs a split (seed and validation ratio).");
        }
        await foreach (var example in rows.StreamAsync(organizationId, request.AgentId, validatedOnly: true, cancellationToken))
        {
            if (validation is null || request.Part is null || validation.Contains(example.Id) == (request.Part == SplitPart.Validation))
            {
                yield return example.Example;
            }
        }
    }
}
