using System.Text.Json.Serialization;
using ObjectaLabs.Orleans.Hosting;
using ObjectaLabs.Orleans.Plans;
using ObjectaLabs.Orleans.Problems;

namespace ObjectaLabs.Orleans.Catalog;

/// <summary>Where the model catalog is; the default is the copy shipped beside the binaries.</summary>
public sealed class BaseModelCatalogOptions
{
    public const string Section = "BaseModels";

    public string File { get; set; } = DataFile.DefaultPath("models.json");
}

/// <summary>The base models, loaded and checked once at start-up; a bad file stops the silo.</summary>
public sealed class BaseModelCatalog
{
    private static readonly Dictionary<string, TokenizerKind> Tokenizers = new(StringComparer.Ordinal)
    {
        ["o200k_base"] = TokenizerKind.O200kBase,
        ["cl100k_base"] = TokenizerKind.Cl100kBase,
        ["approximate"] = TokenizerKind.Approximate,
    };

    private readonly Dictionary<string, BaseModel> _byId;

    public BaseModelCatalog(string version, IReadOnlyList<BaseModel> models)
    {
        Version = version;
        _byId = new Dictionary<string, BaseModel>(StringComparer.OrdinalIgnoreCase);
        foreach (var model in models)
        {
            if (!_byId.TryAdd(model.Id, model))
            {
                throw new InvalidOperationException($"Model '{model.Id}' is listed twice.");
            }
        }
        All = models;
    }

    public string Version { get; }

    public IReadOnlyList<BaseModel> All { get; }

    public BaseModel? Find(string id) => _byId.GetValueOrDefault(id?.Trim() ?? "");

    /// <summary>The model by id, or a validation problem naming the caller's field (an oversized id is echoed cut at 80 characters).</summary>
    public BaseModel Get(string id, string field = "baseModel") =>
        Find(id) ?? throw ProblemException.Invalid(field,
            $"Unknown base model '{(id.Length <= 80 ? id : id[..80] + "…")}'. GET /v1/base-models lists the catalog: {string.Join(", ", _byId.Keys)}.");

    /// <summary>Every plan must name only catalog models that can be fine-tuned (or '*').</summary>
    public void CheckPlans(PlanCatalog plans)
    {
        foreach (var plan in plans.All)
        {
            foreach (var id in plan.AllowedBaseModels.Where(m => m != "*"))
            {
                var model = Find(id) ?? throw new InvalidOperationException($"Plan '{plan.Name}' allows '{id}', which is not in the model catalog.");
                if (!model.FineTunable)
                {
                    throw new InvalidOperationException($"Plan '{plan.Name}' allows '{id}', which cannot be fine-tuned.");
                }
            }
        }
    }

    public static BaseModelCatalog Load(string path)
    {
        return Parse(DataFile.Read<CatalogFile>(path));
    }

    private static BaseModelCatalog Parse(CatalogFile file)
    {
        if (string.IsNullOrWhiteSpace(file.Version) || file.Providers.Count == 0)
        {
            throw new InvalidOperationException("The model catalog needs a version and at least one provider.");
        }
        var models = new List<BaseModel>();
        foreach (var provider in file.Providers)
        {
            if (string.IsNullOrWhiteSpace(provider.Id) || provider.Id != provider.Id.ToLowerInvariant())
            {
                throw new InvalidOperationException($"Provider id '{provider.Id}' must be a non-empty lower-case identifier.");
            }
            foreach (var m in provider.Models)
            {
                models.Add(ParseModel(provider.Id, m));
            }
        }
        return new BaseModelCatalog(file.Version, models);
    }

    private static BaseModel ParseModel(string provider, ModelEntry m)
    {
        var prefix = provider + "/";
        if (m.Id is null || !m.Id.StartsWith(prefix, StringComparison.Ordinal) || m.Id.Length == prefix.Length)
        {
            throw new InvalidOperationException($"Model id '{m.Id}' must start with '{prefix}'.");
        }
        if (m.Tokenizer is null || !Tokenizers.TryGetValue(m.Tokenizer, out var tokenizer))
        {
            throw new InvalidOperationException($"Model '{m.Id}' has tokenizer '{m.Tokenizer}'; use one of {string.Join(", ", Tokenizers.Keys)}.");
        }
        if (m.ContextTokens <= 0 || m.MaxTrainingExampleTokens <= 0)
        {
            throw new InvalidOperationException($"Model '{m.Id}' has a non-positive token limit.");
        }
        if (m.ContextTokens is { } context && m.MaxTrainingExampleTokens > context)
        {
            throw new InvalidOperationException($"Model '{m.Id}' allows training examples longer than its context.");
        }
        var p = m.Prices ?? throw new InvalidOperationException($"Model '{m.Id}' has no prices object (use nulls for unknown figures).");
        decimal?[] figures = [p.Training, p.BaseInput, p.BaseOutput, p.FineTunedInput, p.FineTunedCachedInput, p.FineTunedOutput];
        if (figures.Any(f => f < 0))
        {
            throw new InvalidOperationException($"Model '{m.Id}' has a negative price.");
        }
        DateOnly? shutdown = m.ShutdownDate is null ? null
            : DateOnly.TryParseExact(m.ShutdownDate, "yyyy-MM-dd", out var date) ? date
            : throw new InvalidOperationException($"Model '{m.Id}' has shutdown date '{m.ShutdownDate}'; use YYYY-MM-DD.");
        DateOnly? newJobsUntil = m.NewJobsUntil is null ? null
            : DateOnly.TryParseExact(m.NewJobsUntil, "yyyy-MM-dd", out var last) ? last
            : throw new InvalidOperationException($"Model '{m.Id}' has new-jobs date '{m.NewJobsUntil}'; use YYYY-MM-DD.");
        if (newJobsUntil is { } until && shutdown is { } end && until > end)
        {
            throw new InvalidOperationException($"Model '{m.Id}' accepts new jobs after its shutdown date.");
        }
        var serving = m.FineTunedServing switch
        {
            null or "serverless" => FineTunedServing.Serverless,
            "dedicatedEndpoint" => FineTunedServing.DedicatedEndpoint,
            _ => throw new InvalidOperationException($"Model '{m.Id}' has fineTunedServing '{m.FineTunedServing}'; use 'serverless' or 'dedicatedEndpoint'."),
        };
        return new BaseModel(m.Id, provider, m.Id[prefix.Length..], m.FineTunable, tokenizer,
            m.ContextTokens, m.MaxTrainingExampleTokens, p, shutdown, m.Notes, newJobsUntil, serving);
    }

    private sealed record CatalogFile([property: JsonRequired] string Version, [property: JsonRequired] List<ProviderEntry> Providers);

    private sealed record ProviderEntry([property: JsonRequired] string Id, string? DisplayName, [property: JsonRequired] List<ModelEntry> Models);

    private sealed record ModelEntry(
        [property: JsonRequired] string Id,
        [property: JsonRequired] bool FineTunable,
        [property: JsonRequired] string Tokenizer,
        int? ContextTokens,
        int? MaxTrainingExampleTokens,
        [property: JsonRequired] ModelPrices Prices,
        string? ShutdownDate,
        string? Notes,
        string? NewJobsUntil,
        string? FineTunedServing);
}
