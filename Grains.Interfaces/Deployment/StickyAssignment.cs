using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace ObjectaLabs.Orleans.Deployment;

/// <summary>The two arms of an experiment.</summary>
public enum ExperimentArm
{
    Control = 0,
    Candidate = 1,
}

/// <summary>
/// Sticky experiment assignment: a subject's arm is a pure function of (experiment id, subject key),
/// the same in every process and every release, with nothing stored.
/// </summary>
/// <remarks>
/// The contract (never change it for a running experiment; a test pins known inputs to known outputs):
/// <list type="number">
/// <item>Encode the experiment id and the subject key as UTF-8 (a lone surrogate becomes U+FFFD, as .NET's
/// <see cref="Encoding.UTF8"/> does). A <see cref="Guid"/> experiment id is its lower-case "D" text
/// (<c>0f8fad5b-d9cb-469f-a165-70867728950e</c>).</item>
/// <item>Message = 4-byte big-endian byte length of the id, the id's bytes, 4-byte big-endian byte length of
/// the key, the key's bytes. The length prefixes keep ("ab", "c") and ("a", "bc") apart.</item>
/// <item>Draw = the first 8 bytes of SHA-256(message) read as a big-endian unsigned integer, its top 53 bits
/// divided by 2^53: a double in [0, 1), uniform to 2^-53.</item>
/// <item>The subject is in the candidate arm when draw &lt; candidate share, else in control.</item>
/// </list>
/// Raising the share from a to b moves exactly the subjects whose draw lies in [a, b) from control to
/// candidate; nobody else changes arm. The hot path allocates nothing (inputs up to
/// <see cref="StackBytes"/> bytes are encoded on the stack, longer ones in a pooled buffer).
/// </remarks>
public static class StickyAssignment
{
    /// <summary>Messages up to this many bytes are built on the stack.</summary>
    public const int StackBytes = 512;

    private const double TwoToMinus53 = 1.0 / (1UL << 53);

    /// <summary>The subject's arm for a candidate share in [0, 1].</summary>
    public static ExperimentArm Assign(ReadOnlySpan<char> experimentId, ReadOnlySpan<char> subjectKey, double candidateShare)
    {
        CheckShare(candidateShare);
        return Draw(experimentId, subjectKey) < candidateShare ? ExperimentArm.Candidate : ExperimentArm.Control;
    }

    /// <summary>The subject's arm in an experiment keyed by a <see cref="Guid"/> (its lower-case "D" text).</summary>
    public static ExperimentArm Assign(Guid experimentId, ReadOnlySpan<char> subjectKey, double candidateShare)
    {
        Span<char> id = stackalloc char[36];
        experimentId.TryFormat(id, out _, "D");
        return Assign(id, subjectKey, candidateShare);
    }

    /// <summary>The subject's draw in [0, 1) (see the contract above).</summary>
    public static double Draw(ReadOnlySpan<char> experimentId, ReadOnlySpan<char> subjectKey)
    {
        var idBytes = Encoding.UTF8.GetByteCount(experimentId);
        var keyBytes = Encoding.UTF8.GetByteCount(subjectKey);
        var length = 8 + idBytes + keyBytes;
        byte[]? rented = null;
        var message = length <= StackBytes ? stackalloc byte[StackBytes] : (rented = ArrayPool<byte>.Shared.Rent(length));
        try
        {
            BinaryPrimitives.WriteUInt32BigEndian(message, (uint)idBytes);
            Encoding.UTF8.GetBytes(experimentId, message[4..]);
            BinaryPrimitives.WriteUInt32BigEndian(message[(4 + idBytes)..], (uint)keyBytes);
            Encoding.UTF8.GetBytes(subjectKey, message[(8 + idBytes)..]);
            Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(message[..length], hash);
            return (BinaryPrimitives.ReadUInt64BigEndian(hash) >> 11) * TwoToMinus53;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>The draw for a <see cref="Guid"/> experiment id.</summary>
    public static double Draw(Guid experimentId, ReadOnlySpan<char> subjectKey)
    {
        Span<char> id = stackalloc char[36];
        experimentId.TryFormat(id, out _, "D");
        return Draw(id, subjectKey);
    }

    private static void CheckShare(double candidateShare)
    {
        if (!(candidateShare >= 0 && candidateShare <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(candidateShare), candidateShare, "The candidate's share must be between 0 and 1.");
        }
    }
}
