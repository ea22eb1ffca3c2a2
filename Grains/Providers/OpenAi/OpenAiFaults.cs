using System.ClientModel;
using System.ClientModel.Primitives;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ObjectaLabs.Orleans.Providers.OpenAi;

/// <summary>
/// Turns what the OpenAI SDK throws into a <see cref="ProviderException"/> the job grain can act on:
/// 408/409/429/5xx, timeouts, lost connections and malformed answers are transient (with the server's
/// <c>Retry-After</c>); 401/403 and "fine-tuning not allowed" are permission denied, with OpenAI's wind-down
/// and the alternatives named; 404 is not found; any other 4xx is permanent, with OpenAI's own message.
/// </summary>
public static partial class OpenAiFaults
{
    public const string Provider = "openai";

    /// <summary>What every permission refusal adds: why it may be happening and what to do instead.</summary>
    public const string WindDown =
        "OpenAI closed self-serve fine-tuning to new organizations in 2026 and accepts no new fine-tuning jobs from anyone after 2027-01-06. " +
        "Train on Together (provider 'together') instead, or on the sandbox (provider 'sandbox') to try the flow with a simulated model.";

    public static ProviderException? Classify(Exception exception, CancellationToken cancellationToken) => exception switch
    {
        ProviderException => null,
        ClientResultException e => FromResponse(e),
        OperationCanceledException when !cancellationToken.IsCancellationRequested =>
            new ProviderException(ProviderFaultKind.Transient, Provider, "OpenAI did not answer in time.", inner: exception),
        TimeoutException or HttpRequestException or IOException =>
            new ProviderException(ProviderFaultKind.Transient, Provider, $"OpenAI could not be reached: {exception.Message}", inner: exception),
        // The SDK parses answers itself: a truncated or malformed body surfaces as one of these.
        JsonException or FormatException or KeyNotFoundException or InvalidOperationException =>
            new ProviderException(ProviderFaultKind.Transient, Provider, $"OpenAI sent a malformed answer: {exception.Message}", inner: exception),
        _ => null,
    };

    public static ProviderException PermissionDenied(string detail, int? status = null, string? code = null, Exception? inner = null) =>
        new(ProviderFaultKind.PermissionDenied, Provider, $"OpenAI refused fine-tuning for this account: {detail} {WindDown}", status, code, inner: inner);

    private static ProviderException FromResponse(ClientResultException e)
    {
        var response = e.GetRawResponse();
        var status = e.Status;
        var (message, code) = ReadError(response);
        message ??= e.Message;
        var retryAfter = response is null ? null : RetryAfter(response);
        if (status == 0)
        {
            return new ProviderException(ProviderFaultKind.Transient, Provider, $"OpenAI could not be reached: {e.Message}", inner: e);
        }
        if (status is 408 or 409 or 429 or >= 500)
        {
            return new ProviderException(ProviderFaultKind.Transient, Provider, $"OpenAI answered {status}: {message}", status, code, retryAfter, e);
        }
        if (status is 401 or 403 || IsFineTuningRefusal(message, code))
        {
            return PermissionDenied($"{status} {message}", status, code, e);
        }
        if (status == 404)
        {
            return new ProviderException(ProviderFaultKind.NotFound, Provider, $"OpenAI does not know it: {message}", status, code, inner: e);
        }
        return new ProviderException(ProviderFaultKind.Permanent, Provider, message, status, code, inner: e);
    }

    private static bool IsFineTuningRefusal(string message, string? code) =>
        code is not null && code.Contains("permission", StringComparison.OrdinalIgnoreCase) || RefusalWords().IsMatch(message);

    [GeneratedRegex(@"permission denied|not (allowed|permitted|available) (to|for) (your|this) (organization|account)|do(es)? not have access to fine-tun", RegexOptions.IgnoreCase)]
    private static partial Regex RefusalWords();

    private static (string? Message, string? Code) ReadError(PipelineResponse? response)
    {
        try
        {
            if (response?.Content is not { } content || content.ToMemory().Length == 0)
            {
                return (null, null);
            }
            using var json = JsonDocument.Parse(content);
            if (json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
            {
                return (OpenAiJson.String(error, "message"), OpenAiJson.String(error, "code"));
            }
        }
        catch (JsonException)
        {
            // An error page that is not JSON: the SDK's own message stands.
        }
        return (null, null);
    }

    /// <summary><c>retry-after-ms</c>, else <c>Retry-After</c> in seconds or as an HTTP date.</summary>
    public static TimeSpan? RetryAfter(PipelineResponse response)
    {
        if (response.Headers.TryGetValue("retry-after-ms", out var ms) && double.TryParse(ms, NumberStyles.Float, CultureInfo.InvariantCulture, out var millis) && millis >= 0)
        {
            return TimeSpan.FromMilliseconds(millis);
        }
        if (!response.Headers.TryGetValue("Retry-After", out var value) || string.IsNullOrWhiteSpace(value))
        {
            return null;
        }
        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0)
        {
            return TimeSpan.FromSeconds(seconds);
        }
        return DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            ? TimeSpan.FromTicks(Math.Max(0, (at - DateTimeOffset.UtcNow).Ticks))
            : null;
    }
}
