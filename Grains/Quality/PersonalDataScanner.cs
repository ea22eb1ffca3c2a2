using System.Text.RegularExpressions;

namespace ObjectaLabs.Orleans.Quality;

/// <summary>
/// Finds suspected personal data in text: e-mail addresses, phone numbers (a leading '+' and 8–15
/// digits, or 10–15 digits) and payment card numbers (13–19 digits passing the Luhn check). Suspected
/// means it errs towards reporting; a card number is never also reported as a phone number.
/// </summary>
public static partial class PersonalDataScanner
{
    public readonly record struct Match(PersonalDataKind Kind, int Index, int Length);

    // The automaton engine: scanning is linear in the text's length whatever it holds. A backtracking engine
    // retries every start of a long run of address characters with no '@' (quadratic on crafted text).
    private static readonly Regex Email = new(
        @"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}",
        RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);

    // Digit runs with the separators people type inside numbers (space, dot, dash, parentheses). The run is
    // bounded ({6,24}) and the look-arounds are one character each, so each start costs a bounded amount.
    [GeneratedRegex(@"(?<![\w+])\+?\(?\d[\d\s().-]{6,24}\d(?!\w)", RegexOptions.CultureInvariant)]
    private static partial Regex NumberRun();

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}", RegexOptions.CultureInvariant)]
    private static partial Regex IsoDate();

    public static List<Match> Scan(string text)
    {
        var found = new List<Match>();
        foreach (System.Text.RegularExpressions.Match m in Email.Matches(text))
        {
            found.Add(new Match(PersonalDataKind.Email, m.Index, m.Length));
        }
        var emails = found.Count;
        var nextEmail = 0; // both lists come in text order: one pass finds the overlaps
        foreach (System.Text.RegularExpressions.Match m in NumberRun().Matches(text))
        {
            while (nextEmail < emails && found[nextEmail].Index + found[nextEmail].Length <= m.Index)
            {
                nextEmail++;
            }
            if (nextEmail < emails && found[nextEmail].Index < m.Index + m.Length)
            {
                continue;
            }
            var value = m.Value.TrimEnd();
            if (IsoDate().IsMatch(value))
            {
                continue; // "2026-11-26 10:00" has enough digits for a phone number but is a timestamp
            }
            var digits = new string(value.Where(char.IsAsciiDigit).ToArray());
            if (digits.Length is >= 13 and <= 19 && !value.Contains('(') && !value.StartsWith('+') && Luhn(digits))
            {
                found.Add(new Match(PersonalDataKind.PaymentCard, m.Index, value.Length));
            }
            else if ((value.StartsWith('+') && digits.Length is >= 8 and <= 15) || digits.Length is >= 10 and <= 15)
            {
                found.Add(new Match(PersonalDataKind.Phone, m.Index, value.Length));
            }
        }
        found.Sort((a, b) => a.Index.CompareTo(b.Index));
        return found;
    }

    /// <summary>The text with every finding replaced by [EMAIL], [PHONE] or [CARD].</summary>
    public static (string Text, int Replacements) Redact(string text)
    {
        var found = Scan(text);
        if (found.Count == 0)
        {
            return (text, 0);
        }
        var builder = new System.Text.StringBuilder(text.Length);
        var at = 0;
        foreach (var f in found)
        {
            builder.Append(text, at, f.Index - at).Append(Placeholder(f.Kind));
            at = f.Index + f.Length;
        }
        builder.Append(text, at, text.Length - at);
        return (builder.ToString(), found.Count);
    }

    /// <summary>A copy safe to show in a report: the first and last characters, the rest masked.</summary>
    public static string Mask(string value) =>
        value.Length <= 4 ? new string('*', value.Length) : value[0] + new string('*', value.Length - 3) + value[^2..];

    public static string Placeholder(PersonalDataKind kind) => kind switch
    {
        PersonalDataKind.Email => "[EMAIL]",
        PersonalDataKind.Phone => "[PHONE]",
        _ => "[CARD]",
    };

    public static bool Luhn(string digits)
    {
        var sum = 0;
        var doubleIt = false;
        for (var i = digits.Length - 1; i >= 0; i--)
        {
            var d = digits[i] - '0';
            if (doubleIt)
            {
                d *= 2;
                if (d > 9)
                {
                    d -= 9;
                }
            }
            sum += d;
            doubleIt = !doubleIt;
        }
        return sum % 10 == 0;
    }
}
