using System.Collections.Concurrent;
using Microsoft.ML.Tokenizers;
using ObjectaLabs.Orleans.Catalog;

namespace ObjectaLabs.Orleans.Tokens;

/// <summary>
/// One tokenizer per encoding for the whole process: creating one loads its vocabulary (0.2–0.8 s),
/// and a <see cref="TiktokenTokenizer"/> is safe to share between threads.
/// </summary>
public sealed class TokenizerCache
{
    private readonly ConcurrentDictionary<TokenizerKind, Lazy<Tokenizer>> _tokenizers = new();

    /// <summary>The tokenizer for a kind. Approximate counts (open models) use o200k_base as a stand-in.</summary>
    public Tokenizer Get(TokenizerKind kind) =>
        _tokenizers.GetOrAdd(kind, k => new Lazy<Tokenizer>(() => Create(k), LazyThreadSafetyMode.ExecutionAndPublication)).Value;

    private static Tokenizer Create(TokenizerKind kind) => kind switch
    {
        TokenizerKind.Cl100kBase => TiktokenTokenizer.CreateForEncoding("cl100k_base"),
        _ => TiktokenTokenizer.CreateForEncoding("o200k_base"),
    };
}
