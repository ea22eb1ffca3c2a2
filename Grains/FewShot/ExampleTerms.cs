using Lucene.Net.Analysis;
using Lucene.Net.Analysis.En;
using Lucene.Net.Analysis.TokenAttributes;
using Lucene.Net.Util;

namespace ObjectaLabs.Orleans.FewShot;

/// <summary>
/// The terms of a text as the lexical index counts them: Lucene's English analysis (Unicode word breaks, possessives,
/// lower case, English stop words, Porter stemming), so "refunds", "refunded" and "refunding" are one term. Safe to use
/// from many threads at once (the analyzer keeps one token stream per thread).
/// </summary>
public static class ExampleTerms
{
    private static readonly Analyzer English = new EnglishAnalyzer(LuceneVersion.LUCENE_48);

    /// <summary>Most characters of a text analysed (a longer message is ranked by its start).</summary>
    public const int MaxAnalyzedLength = 20_000;

    public static List<string> Of(string text)
    {
        var terms = new List<string>();
        if (string.IsNullOrWhiteSpace(text))
        {
            return terms;
        }
        using var reader = new StringReader(text.Length > MaxAnalyzedLength ? text[..MaxAnalyzedLength] : text);
        using var stream = English.GetTokenStream("text", reader);
        var term = stream.AddAttribute<ICharTermAttribute>();
        stream.Reset();
        while (stream.IncrementToken())
        {
            terms.Add(term.ToString());
        }
        stream.End();
        return terms;
    }
}
