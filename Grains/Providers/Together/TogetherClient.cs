using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Polly.Timeout;

namespace ObjectaLabs.Orleans.Providers.Together;

/// <summary>
/// Together's REST API over a typed <see cref="HttpClient"/> whose handler carries the resilience pipeline
/// (<see cref="TogetherRegistration"/>). Each call names its account: base URL and key travel per request,
/// so one client serves the platform's key and every organization's own. Failures leave as
/// <see cref="ProviderException"/>, classified by <see cref="Classify"/>.
/// </summary>
public sealed class TogetherClient(HttpClient http)
{
    public const string Provider = "together";

    public Task<JsonDocument> GetAsync(ProviderAccount account, string path, CancellationToken cancellationToken) =>
        SendAsync(account, HttpMethod.Get, path, null, cancellationToken);

    public Task<JsonDocument> PostJsonAsync(ProviderAccount account, string path, JsonNode? body, CancellationToken cancellationToken) =>
        SendAsync(account, HttpMethod.Post, path,
            body is null ? null : new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"), cancellationToken);

    /// <summary>Uploads a file as multipart (<c>file</c>, <c>file_name</c>, <c>purpose=fine-tune</c>), streamed from <paramref name="writeContent"/>.</summary>
    public async Task<JsonDocument> UploadAsync(ProviderAccount account, string fileName, Func<Stream, CancellationToken, Task> writeContent, CancellationToken cancellationToken)
    {
        using var form = new MultipartFormDataContent("objectalabs-" + Guid.NewGuid().ToString("N"));
        form.Add(new StringContent("fine-tune"), "purpose");
        form.Add(new StringContent(fileName), "file_name");
        var file = new PushStreamContent(writeContent);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "file", fileName);
        return await SendAsync(account, HttpMethod.Post, "/files/upload", form, cancellationToken);
    }

    private async Task<JsonDocument> SendAsync(ProviderAccount account, HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken)
    {
        if (account.ApiKey is not { Length: > 0 } key)
        {
            throw new ProviderException(ProviderFaultKind.PermissionDenied, Provider, "No Together API key is configured for this account.");
        }
        using var request = new HttpRequestMessage(method, new Uri(account.BaseUrl.ToString().TrimEnd('/') + path)) { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw FromResponse(response, body);
            }
            return JsonDocument.Parse(body);
        }
        catch (Exception e) when (Classify(e, cancellationToken) is { } fault)
        {
            throw fault;
        }
    }

    /// <summary>Timeouts, lost connections and malformed answers are transient; <see cref="ProviderException"/> passes through.</summary>
    public static ProviderException? Classify(Exception exception, CancellationToken cancellationToken) => exception switch
    {
        ProviderException => null,
        TimeoutRejectedException => new ProviderException(ProviderFaultKind.Transient, Provider, "Together did not answer in time.", inner: exception),
        OperationCanceledException when !cancellationToken.IsCancellationRequested =>
            new ProviderException(ProviderFaultKind.Transient, Provider, "Together did not answer in time.", inner: exception),
        HttpRequestException or IOException =>
            new ProviderException(ProviderFaultKind.Transient, Provider, $"Together could not be reached: {exception.Message}", inner: exception),
        JsonException => new ProviderException(ProviderFaultKind.Transient, Provider, $"Together sent a malformed answer: {exception.Message}", inner: exception),
        Polly.CircuitBreaker.BrokenCircuitException => new ProviderException(ProviderFaultKind.Transient, Provider, "Together calls are paused after repeated failures.", inner: exception),
        _ => null,
    };

    private static ProviderException FromResponse(HttpResponseMessage response, byte[] body)
    {
        var status = (int)response.StatusCode;
        var (message, code) = ReadError(body);
        message ??= $"{status} {response.ReasonPhrase}";
        if (status is 408 or 409 or 429 or >= 500)
        {
            return new ProviderException(ProviderFaultKind.Transient, Provider, $"Together answered {status}: {message}", status, code, RetryAfter(response));
        }
        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            return new ProviderException(ProviderFaultKind.PermissionDenied, Provider,
                $"Together refused this account ({status}: {message}). Check the Together key (Providers:Together:ApiKey, or the organization's own key), " +
                "or train on another configured provider or the sandbox (provider 'sandbox').", status, code);
        }
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return new ProviderException(ProviderFaultKind.NotFound, Provider, $"Together does not know it: {message}", status, code);
        }
        return new ProviderException(ProviderFaultKind.Permanent, Provider, message, status, code);
    }

    private static (string? Message, string? Code) ReadError(byte[] body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            var root = json.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return (null, null);
            }
            var error = root.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.Object ? e : root;
            return (TogetherJson.String(error, "message"), TogetherJson.String(error, "code") ?? TogetherJson.String(error, "type"));
        }
        catch (JsonException)
        {
            return (null, null);
        }
    }

    /// <summary>The server's <c>Retry-After</c> (seconds or an HTTP date).</summary>
    public static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var retryAfter = response.Headers.RetryAfter;
        if (retryAfter?.Delta is { } delta)
        {
            return delta;
        }
        if (retryAfter?.Date is { } date)
        {
            return TimeSpan.FromTicks(Math.Max(0, (date - DateTimeOffset.UtcNow).Ticks));
        }
        return response.Headers.TryGetValues("retry-after-ms", out var values)
            && double.TryParse(values.FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out var ms)
            ? TimeSpan.FromMilliseconds(ms)
            : null;
    }
}
