using Microsoft.Extensions.Caching.Memory;
using System.Text;
using System.Security.Cryptography;
#pragma warning disable OPENAI001 // OpenAI.FineTuning is marked experimental in SDK 2.15.0; it is the supported surface.
using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Options;
using ObjectaLabs.Orleans.Providers.Accounts;
using OpenAI;
using OpenAI.Files;
using OpenAI.FineTuning;

namespace ObjectaLabs.Orleans.Providers.OpenAi;

/// <summary>
/// OpenAI fine-tuning through the official .NET SDK (2.15.0). Typed calls where the SDK has them (create,
/// retrieve, file list); the SDK's own pipeline (same key, organization header, timeout) for what it only
/// offers on a job object or not at all (events, checkpoints, cancel, list by metadata, streamed upload),
/// so a poll costs one request, not a retrieve first. Answers are read from the raw JSON (<see cref="OpenAiJson"/>).
/// <para>
/// Retries: the SDK's are switched off (<c>new ClientRetryPolicy(0)</c>). Its default policy retries 429/5xx
/// back-to-back with no delay, and OpenAI has no idempotency key, so an SDK retry of a create whose first
/// answer was lost would submit a second job. Every transient fault goes back to the job grain instead,
/// with the server's <c>Retry-After</c>; the grain backs off on its reminder and looks for the job by our
/// reference (<c>metadata.objectalabs_job</c>) before any re-submission.
/// </para>
/// </summary>
public sealed class OpenAiProvider(IOptions<OpenAiProviderOptions> options, TimeProvider time, ILogger<OpenAiProvider> logger) : IFineTuningProvider
{
    private static readonly PipelineMessageClassifier Ok = PipelineMessageClassifier.Create([200]);
    // Clients by the SHA-256 of their key (never the key itself), kept while in use: an idle one (a key rotated or
    // removed) leaves after ClientIdleLifetime, and at most MaxClients are kept.
    private const int MaxClients = 1000;
    private static readonly TimeSpan ClientIdleLifetime = TimeSpan.FromMinutes(10);
    private readonly MemoryCache _clients = new(new MemoryCacheOptions { SizeLimit = MaxClients });

    public string Name => ProviderNames.OpenAi;

    public bool QuotesPrices => false;

    private int PageSize => options.Value.PageSize;

    public Task<ProviderFile> UploadFileAsync(ProviderAccount account, string fileName, Func<Stream, CancellationToken, Task> writeContent, string sha256, CancellationToken cancellationToken) =>
        CallAsync(async () =>
        {
            var name = ProviderFileNames.WithHash(fileName, sha256);
            using var form = new MultipartFormDataContent("objectalabs-" + Guid.NewGuid().ToString("N"));
            form.Add(new StringContent("fine-tune"), "purpose");
            var file = new PushStreamContent(writeContent);
            file.Headers.ContentType = new MediaTypeHeaderValue("application/jsonl");
            form.Add(file, "file", name);
            using var content = new HttpContentBinaryContent(form);
            var result = await Client(account).GetOpenAIFileClient()
                .UploadFileAsync(content, form.Headers.ContentType!.ToString(), new RequestOptions { CancellationToken = cancellationToken });
            using var json = JsonDocument.Parse(result.GetRawResponse().Content);
            var uploaded = OpenAiJson.File(json.RootElement);
            logger.LogInformation("Uploaded {FileName} to OpenAI as {FileId} ({Bytes} bytes)", name, uploaded.Id, uploaded.Bytes);
            return uploaded;
        }, cancellationToken);

    public Task<ProviderFile?> FindFileAsync(ProviderAccount account, string fileName, string sha256, CancellationToken cancellationToken) =>
        CallAsync(async () =>
        {
            var name = ProviderFileNames.WithHash(fileName, sha256);
            var files = await Client(account).GetOpenAIFileClient().GetFilesAsync(FilePurpose.FineTune, cancellationToken);
            var match = files.Value.Where(f => f.Filename == name).OrderByDescending(f => f.CreatedAt).FirstOrDefault();
            return match is null ? null : new ProviderFile(match.Id, match.Filename, match.SizeInBytesLong ?? 0, match.CreatedAt);
        }, cancellationToken);

    public Task<ProviderJob> CreateJobAsync(ProviderAccount account, ProviderJobRequest request, CancellationToken cancellationToken)
    {
        var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        if (today > options.Value.NewJobsEndDate)
        {
            throw OpenAiFaults.PermissionDenied($"OpenAI's last day for new fine-tuning jobs was {options.Value.NewJobsEndDate:yyyy-MM-dd}.");
        }
        return CallAsync(async () =>
        {
            var h = request.Hyperparameters;
            var fineTuning = new FineTuningOptions
            {
                Suffix = request.Suffix,
                Seed = request.Seed,
                ValidationFile = request.ValidationFileId,
                TrainingMethod = FineTuningTrainingMethod.CreateSupervised(
                    h.BatchSize is { } batch ? HyperparameterBatchSize.CreateSize(batch) : HyperparameterBatchSize.CreateAuto(),
                    h.Epochs is { } epochs ? HyperparameterEpochCount.CreateEpochCount(epochs) : HyperparameterEpochCount.CreateAuto(),
                    h.LearningRateMultiplier is { } rate ? HyperparameterLearningRate.CreateMultiplier(rate) : HyperparameterLearningRate.CreateAuto()),
            };
            fineTuning.Metadata[OpenAiJson.ReferenceKey] = request.Reference;
            var job = await Client(account).GetFineTuningClient()
                .FineTuneAsync(request.ProviderModel, request.TrainingFileId, waitUntilCompleted: false, fineTuning, cancellationToken);
            using var json = JsonDocument.Parse(job.GetRawResponse().Content);
            var created = OpenAiJson.Job(json.RootElement);
            logger.LogInformation("Created OpenAI job {ProviderJobId} for {Reference}", created.Id, request.Reference);
            return created;
        }, cancellationToken);
    }

    public Task<ProviderJob?> FindJobByReferenceAsync(ProviderAccount account, string reference, string? suffix, CancellationToken cancellationToken) =>
        CallAsync(async () =>
        {
            // Filtered by OpenAI (metadata[k]=v) and checked again here, in case a server ignores the filter.
            var query = $"metadata%5B{OpenAiJson.ReferenceKey}%5D={Uri.EscapeDataString(reference)}";
            string? after = null;
            for (var page = 0; page < 1000; page++)
            {
                using var json = await SendAsync(account, "GET",
                    $"/fine_tuning/jobs?limit={PageSize}&{query}{(after is null ? "" : "&after=" + Uri.EscapeDataString(after))}", cancellationToken);
                var (items, hasMore) = OpenAiJson.List(json.RootElement);
                var match = items.Select(OpenAiJson.Job).FirstOrDefault(j => j.Reference == reference);
                if (match is not null)
                {
                    return match;
                }
                if (!hasMore || items.Count == 0)
                {
                    return null;
                }
                after = OpenAiJson.String(items[^1], "id");
            }
            return (ProviderJob?)null;
        }, cancellationToken);

    public Task<ProviderJob> GetJobAsync(ProviderAccount account, string providerJobId, CancellationToken cancellationToken) =>
        CallAsync(async () =>
        {
            var job = await Client(account).GetFineTuningClient().GetJobAsync(providerJobId, cancellationToken);
            using var json = JsonDocument.Parse(job.GetRawResponse().Content);
            return OpenAiJson.Job(json.RootElement);
        }, cancellationToken);

    /// <summary>
    /// OpenAI lists events newest first and pages towards older ones; new events since the cursor are
    /// the pages read from the newest until the cursor's event shows up, answered oldest first.
    /// </summary>
    public Task<ProviderEventPage> ListEventsAsync(ProviderAccount account, string providerJobId, string? afterCursor, CancellationToken cancellationToken) =>
        CallAsync(async () =>
        {
            var newest = new List<ProviderEvent>();
            string? after = null;
            for (var page = 0; page < 1000; page++)
            {
                using var json = await SendAsync(account, "GET",
                    $"/fine_tuning/jobs/{Uri.EscapeDataString(providerJobId)}/events?limit={PageSize}{(after is null ? "" : "&after=" + Uri.EscapeDataString(after))}", cancellationToken);
                var (items, hasMore) = OpenAiJson.List(json.RootElement);
                foreach (var item in items)
                {
                    var e = OpenAiJson.Event(item);
                    if (afterCursor is not null && e.Id == afterCursor)
                    {
                        return Answer(newest, afterCursor);
                    }
                    newest.Add(e);
                }
                if (!hasMore || items.Count == 0)
                {
                    break;
                }
                after = OpenAiJson.String(items[^1], "id");
            }
            return Answer(newest, afterCursor);
        }, cancellationToken);

    private static ProviderEventPage Answer(List<ProviderEvent> newestFirst, string? cursor)
    {
        var next = newestFirst.Count > 0 ? newestFirst[0].Id : cursor;
        newestFirst.Reverse();
        return new ProviderEventPage(newestFirst, next);
    }

    public Task<IReadOnlyList<ProviderCheckpoint>> ListCheckpointsAsync(ProviderAccount account, string providerJobId, CancellationToken cancellationToken) =>
        CallAsync(async () =>
        {
            var checkpoints = new List<ProviderCheckpoint>();
            string? after = null;
            for (var page = 0; page < 1000; page++)
            {
                using var json = await SendAsync(account, "GET",
                    $"/fine_tuning/jobs/{Uri.EscapeDataString(providerJobId)}/checkpoints?limit={PageSize}{(after is null ? "" : "&after=" + Uri.EscapeDataString(after))}", cancellationToken);
                var (items, hasMore) = OpenAiJson.List(json.RootElement);
                checkpoints.AddRange(items.Select(OpenAiJson.Checkpoint));
                if (!hasMore || items.Count == 0)
                {
                    break;
                }
                after = OpenAiJson.String(items[^1], "id");
            }
            return (IReadOnlyList<ProviderCheckpoint>)[.. checkpoints.OrderBy(c => c.Step)];
        }, cancellationToken);

    public Task<ProviderJob> CancelJobAsync(ProviderAccount account, string providerJobId, CancellationToken cancellationToken) =>
        CallAsync(async () =>
        {
            using var json = await SendAsync(account, "POST", $"/fine_tuning/jobs/{Uri.EscapeDataString(providerJobId)}/cancel", cancellationToken);
            logger.LogInformation("Asked OpenAI to cancel {ProviderJobId}", providerJobId);
            return OpenAiJson.Job(json.RootElement);
        }, cancellationToken);

    /// <summary>OpenAI publishes no price-estimate endpoint; the cost estimate uses the catalog's prices.</summary>
    public Task<ProviderPriceEstimate?> EstimatePriceAsync(ProviderAccount account, ProviderJobRequest request, CancellationToken cancellationToken) =>
        Task.FromResult<ProviderPriceEstimate?>(null);

    /// <summary>One request through the SDK's pipeline (its auth, headers, timeout and transport).</summary>
    private async Task<JsonDocument> SendAsync(ProviderAccount account, string method, string pathAndQuery, CancellationToken cancellationToken)
    {
        var pipeline = Client(account).GetFineTuningClient().Pipeline;
        using var message = pipeline.CreateMessage();
        message.ResponseClassifier = Ok;
        message.Request.Method = method;
        message.Request.Uri = new Uri(account.BaseUrl.ToString().TrimEnd('/') + pathAndQuery);
        message.Request.Headers.Set("Accept", "application/json");
        message.Apply(new RequestOptions { CancellationToken = cancellationToken });
        await pipeline.SendAsync(message);
        var response = message.Response ?? throw new ClientResultException("OpenAI sent no response.");
        if (response.IsError)
        {
            throw new ClientResultException(response);
        }
        return JsonDocument.Parse(response.Content);
    }

    private OpenAIClient Client(ProviderAccount account)
    {
        var key = account.ApiKey is { Length: > 0 } k ? k : throw OpenAiFaults.PermissionDenied("no OpenAI API key is configured for this account.");
        var id = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes($"{key}\n{account.BaseUrl}\n{account.OrganizationId}")));
        return _clients.GetOrCreate(id, entry =>
        {
            entry.Size = 1;
            entry.SlidingExpiration = ClientIdleLifetime;
            return new OpenAIClient(new ApiKeyCredential(key), new OpenAIClientOptions
            {
                Endpoint = account.BaseUrl,
                OrganizationId = account.OrganizationId,
                RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
                NetworkTimeout = options.Value.Timeout,
                UserAgentApplicationId = "objectalabs-fine-tuning",
            });
        })!;
    }

    private static async Task<T> CallAsync<T>(Func<Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call();
        }
        catch (Exception e) when (OpenAiFaults.Classify(e, cancellationToken) is { } fault)
        {
            throw fault;
        }
    }

    /// <summary>Lets an <see cref="HttpContent"/> (a streamed multipart form) be sent through the SDK's protocol methods.</summary>
    private sealed class HttpContentBinaryContent(HttpContent content) : BinaryContent
    {
        public override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }

        public override void WriteTo(Stream stream, CancellationToken cancellationToken = default) =>
            content.CopyTo(stream, null, cancellationToken);

        public override Task WriteToAsync(Stream stream, CancellationToken cancellationToken = default) =>
            content.CopyToAsync(stream, cancellationToken);

        public override void Dispose()
        {
        }
    }
}
