namespace ObjectaLabs.Orleans.Quality;

/// <summary>Which examples a quality report (or a redaction) covers, and the target base model.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.quality-request")]
public sealed record class QualityRequest(string BaseModel, Guid? AgentId = null, bool ValidatedOnly = false);

/// <summary>A distribution's figures; the median and p90 are nearest-rank values.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.distribution")]
public sealed record class Distribution(int Min, int Median, int P90, int Max, double Mean)
{
    public static Distribution Empty { get; } = new(0, 0, 0, 0, 0);
}

public enum PersonalDataKind
{
    Email = 0,
    Phone = 1,
    PaymentCard = 2,
}

/// <summary>A suspected piece of personal data: where it is and a masked copy, never the value itself.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.personal-data-finding")]
public sealed record class PersonalDataFinding(Guid ExampleId, string Path, PersonalDataKind Kind, string Masked);

public enum VerdictLevel
{
    Blocker = 0,
    Warning = 1,
    Ok = 2,
}

/// <summary>A best-practice verdict (spec section 10) with its figures in the message.</summary>
[GenerateSerializer, Immutable, Alias("objectalabs.quality-verdict")]
public sealed record class QualityVerdict(string Code, VerdictLevel Level, string Message);

/// <summary>
/// The quality report. Token counts use the target model's tokenizer; <see cref="TokensApproximate"/>
/// says when no exact one exists, and a null <see cref="TokenLimit"/> means the model's training-example
/// limit is unknown, so nothing could be checked against it.
/// </summary>
[GenerateSerializer, Immutable, Alias("objectalabs.quality-report")]
public sealed record class QualityReport(
    string BaseModel,
    bool TokensApproximate,
    int? TokenLimit,
    int Examples,
    Distribution TokensPerExample,
    Distribution MessagesPerExample,
    long TotalTokens,
    IReadOnlyList<Guid> OverTokenLimit,
    int MissingSystem,
    int MissingUser,
    IReadOnlyList<IReadOnlyList<Guid>> ExactDuplicates,
    IReadOnlyList<IReadOnlyList<Guid>> NearDuplicates,
    IReadOnlyList<PersonalDataFinding> PersonalData,
    IReadOnlyDictionary<string, int> ByTag,
    IReadOnlyDictionary<string, int> ByAgent,
    IReadOnlyList<QualityVerdict> Verdicts);

[GenerateSerializer, Immutable, Alias("objectalabs.redaction-result")]
public sealed record class RedactionResult(int ExamplesChanged, int Replacements, int SkippedAsDuplicates);
