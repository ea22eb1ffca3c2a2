using System.Buffers.Binary;
using System.Security.Cryptography;
using ObjectaLabs.Orleans.Examples;
using ObjectaLabs.Orleans.Problems;

namespace ObjectaLabs.Orleans.Export;

/// <summary>
/// A deterministic, seeded split: examples are ranked by SHA-256(seed, example id), and the first
/// floor(n × ratio) go to validation. The same seed, ratio and examples always give the same parts,
/// whatever order the database returns them in; adding examples moves few existing ones. There is a
/// validation part only when it gets at least one example and training keeps at least
/// <see cref="MinTrainingExamples"/>.
/// </summary>
public static class TrainValidationSplit
{
    public const int MinTrainingExamples = 10;
    public const double MaxValidationRatio = 0.5;

    public static void Check(SplitOptions options)
    {
        if (double.IsNaN(options.ValidationRatio) || options.ValidationRatio < 0 || options.ValidationRatio > MaxValidationRatio)
        {
            throw ProblemException.Invalid("validationRatio", $"'validationRatio' must be between 0 and {MaxValidationRatio}.");
        }
    }

    /// <summary>The ids that fall in the validation part, and why there are none when there are none.</summary>
    public static (HashSet<Guid> Validation, string? Reason) Validation(IReadOnlyCollection<Guid> ids, SplitOptions options)
    {
        Check(options);
        var n = ids.Count;
        var size = (int)Math.Floor(n * options.ValidationRatio);
        if (options.ValidationRatio == 0)
        {
            return ([], "The validation ratio is 0.");
        }
        if (size < 1 || n - size < MinTrainingExamples)
        {
            return ([], $"{n} examples are too few for a validation part at ratio {options.ValidationRatio}: it needs at least one example while training keeps {MinTrainingExamples}.");
        }
        var chosen = ids.OrderBy(id => Rank(options.Seed, id)).ThenBy(id => id).Take(size).ToHashSet();
        return (chosen, null);
    }

    public static ulong Rank(int seed, Guid id)
    {
        Span<byte> input = stackalloc byte[20];
        BinaryPrimitives.WriteInt32LittleEndian(input, seed);
        id.TryWriteBytes(input[4..]);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(input, hash);
        return BinaryPrimitives.ReadUInt64LittleEndian(hash);
    }
}
