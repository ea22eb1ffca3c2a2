using System.Text;
using System.Text.Unicode;

namespace ObjectaLabs.Orleans.Text;

/// <summary>
/// Whether text can be stored in PostgreSQL, whose <c>text</c> and <c>jsonb</c> hold valid UTF-8
/// without NUL. Three things cannot: a NUL character (U+0000, raw or escaped), a UTF-16 surrogate
/// without its partner (only reachable through a JSON <c>\ud800</c> escape or a .NET string built
/// by hand), and bytes that are not UTF-8 (overlong forms, truncated sequences, lone continuation
/// bytes, 0xC0/0xC1/0xF5–0xFF, encoded surrogates). Shared by every boundary that accepts text:
/// check first, refuse with the position, and the database never sees it.
/// </summary>
public static class StorableText
{
    /// <summary>Why a piece of text cannot be stored, and where (0-based).</summary>
    /// <param name="Index">For UTF-8 bytes the byte offset, for a string the UTF-16 index.</param>
    /// <param name="Column">1-based character (code point) position of the fault, as an editor counts it.</param>
    public readonly record struct Fault(int Index, int Column, string Code, string Reason);

    public const string NulCode = "nul_character";
    public const string SurrogateCode = "unpaired_surrogate";
    public const string Utf8Code = "invalid_utf8";

    /// <summary>Whether <paramref name="text"/> (null is fine) can be stored.</summary>
    public static bool IsStorable(string? text) => text is null || Find(text.AsSpan()) is null;

    /// <summary>Whether <paramref name="text"/> can be stored; if not, the first fault.</summary>
    public static bool IsStorable(ReadOnlySpan<char> text, out Fault fault)
    {
        fault = Find(text) ?? default;
        return fault.Code is null;
    }

    /// <summary>The first NUL or unpaired surrogate in <paramref name="text"/>, or null.</summary>
    public static Fault? Find(ReadOnlySpan<char> text)
    {
        var column = 1;
        for (var i = 0; i < text.Length; i++, column++)
        {
            var c = text[i];
            if (c == '\0')
            {
                return new Fault(i, column, NulCode, "contains a NUL character (U+0000), which cannot be stored");
            }
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++; // a pair is one character
                continue;
            }
            if (char.IsSurrogate(c))
            {
                return new Fault(i, column, SurrogateCode,
                    $"contains an unpaired UTF-16 surrogate (U+{(int)c:X4}), which is not a character and cannot be stored");
            }
        }
        return null;
    }

    /// <summary>The first byte sequence in <paramref name="utf8"/> that is not UTF-8, or a NUL byte; null when storable.</summary>
    public static Fault? Find(ReadOnlySpan<byte> utf8)
    {
        var nul = utf8.IndexOf((byte)0);
        var checkedPart = nul < 0 ? utf8 : utf8[..nul];
        if (!Utf8.IsValid(checkedPart))
        {
            var at = 0;
            while (at < checkedPart.Length)
            {
                if (Rune.DecodeFromUtf8(checkedPart[at..], out _, out var consumed) != System.Buffers.OperationStatus.Done)
                {
                    return new Fault(at, Column(utf8, at), Utf8Code,
                        $"holds bytes that are not UTF-8 (0x{utf8[at]:X2} at byte {at + 1}); save the file as UTF-8");
                }
                at += consumed;
            }
        }
        return nul < 0 ? null : new Fault(nul, Column(utf8, nul), NulCode, "contains a NUL byte, which cannot be stored");
    }

    /// <summary>1-based character position of byte <paramref name="byteIndex"/>, counting code points of the valid UTF-8 before it.</summary>
    public static int Column(ReadOnlySpan<byte> utf8, int byteIndex)
    {
        var prefix = utf8[..Math.Clamp(byteIndex, 0, utf8.Length)];
        var column = 1;
        foreach (var b in prefix)
        {
            column += (b & 0xC0) == 0x80 ? 0 : 1; // count every byte that starts a character
        }
        return column;
    }
}
