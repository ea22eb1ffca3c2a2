using System.ClientModel;
using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using OpenAI;
using OpenAI.Embeddings;

namespace ObjectaLabs.Orleans.FewShot;

/// <summary>
/// The embeddings endpoint the embedding mode uses (section <c>FewShot:Embeddings</c>): any OpenAI-compatible
/// <c>/v1/embeddings</c> (OpenAI itself, or a self-hosted server), its key, the model and the vector size asked for.
/// Unset <see cref="BaseUrl"/>: the embedding mode is off (lexical and fixed need no service).
/// </summary>
public sealed class EmbeddingsOptions
{
    public const string Section = "FewShot:Embeddings";

    public Uri? BaseUrl { get; set; }

    public string? ApiKey { get; set; }

    public string Model { get; set; } = "text-embedding-3-small";

    /// <summary>Floats per vector: memory per 100,000 examples is this × 400 KB (256: about 100 MB).</summary>
    [Range(16, 3072)]
    public int Dimensions { get; set; } = 256;

    /// <summary>Inputs per call when embedding the examples.</summary>
    [Range(1, 2048)]
    public int BatchSize { get; set; } = 256;

    [Range(typeof(TimeSpan), "00:00:01", "00:05:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>Vectors for texts from the configured embeddings endpoint, through the OpenAI SDK; unit length, so a dot product is the cosine.</summary>
public sealed class ExampleEmbedder(IOptions<EmbeddingsOptions> options)
{
    private readonly Lazy<EmbeddingClient?> _client = new(() => options.Value.BaseUrl is { } url
        ? new EmbeddingClient(options.Value.Model, new ApiKeyCredential(options.Value.ApiKey is { Length: > 0 } key ? key : "none"),
            new OpenAIClientOptions
            {
                Endpoint = url,
                NetworkTimeout = options.Value.Timeout,
                UserAgentApplicationId = "objectalabs-few-shot",
                // A request's message is embedded while the runtime waits: one retry, then 503, never seconds of backoff.
                RetryPolicy = new System.ClientModel.Primitives.ClientRetryPolicy(maxRetries: 1),
            })
        : null);

    public bool Configured => options.Value.BaseUrl is not null;

    /// <summary>What stored vectors are kept under: the model and the vector size (a vector of another is never mixed in).</summary>
    public string ModelKey => $"{options.Value.Model}/{options.Value.Dimensions}";

    public int Dimensions => options.Value.Dimensions;

    /// <summary>The model and vector size, as an answer names them.</summary>
    public string Describe => $"{options.Value.Model} ({options.Value.Dimensions} dimensions)";

    public async Task<IReadOnlyList<float[]>> EmbedAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken = default)
    {
        var client = _client.Value ?? throw new InvalidOperationException("No embeddings endpoint is configured (FewShot:Embeddings:BaseUrl).");
        var vectors = new List<float[]>(texts.Count);
        foreach (var batch in texts.Chunk(options.Value.BatchSize))
        {
            // An empty text has no vector; a space stands in for it (a valid input that matches nothing in particular).
            ClientResult<OpenAIEmbeddingCollection> result;
            try
            {
                result = await client.GenerateEmbeddingsAsync(batch.Select(t => t.Length == 0 ? " " : t),
                    new EmbeddingGenerationOptions { Dimensions = options.Value.Dimensions }, cancellationToken);
            }
            catch (Exception e) when (e is ClientResultException or HttpRequestException or TaskCanceledException)
            {
                // The embeddings service failed or is out of reach: the request may be retried (503), like a database outage.
                throw new TimeoutException($"The embeddings endpoint did not answer ({e.GetType().Name}: {e.Message}).", e);
            }
            foreach (var embedding in result.Value.OrderBy(e => e.Index))
            {
                vectors.Add(Normalized(embedding.ToFloats().ToArray()));
            }
        }
        return vectors;
    }

    private static float[] Normalized(float[] vector)
    {
        var length = MathF.Sqrt(System.Numerics.Tensors.TensorPrimitives.Dot(vector, vector));
        if (length > 0)
        {
            System.Numerics.Tensors.TensorPrimitives.Divide(vector, length, vector);
        }
        return vector;
    }
}
