using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Features;

namespace ObjectaLabs.Orleans.ProviderEmulators;

/// <summary>
/// What both emulators share: a Kestrel app on 127.0.0.1, the request log, fault injection, a bearer-key
/// check and the control endpoints under <c>/_control</c> (never faulted, never logged).
/// </summary>
public abstract class EmulatorBase
{
    protected static readonly JsonSerializerOptions ControlJson = new(JsonSerializerDefaults.Web);

    private WebApplication? _app;

    protected EmulatorBase(EmulatorOptions options, EmulatorClock clock)
    {
        Options = options;
        Clock = clock;
        Faults = new FaultSet(options.FaultSeed);
    }

    public EmulatorOptions Options { get; }
    public EmulatorClock Clock { get; }
    public FaultSet Faults { get; }
    public RequestLog Requests { get; } = new();

    /// <summary>The API's base address, ending in <c>/v1</c> (what a client's base URL is set to).</summary>
    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>The provider's name in messages.</summary>
    protected abstract string ProviderName { get; }

    protected abstract void MapApi(WebApplication app);

    /// <summary>The emulator's jobs as JSON, for <c>GET /_control/jobs</c>.</summary>
    protected abstract JsonArray JobsForControl();

    internal async Task StartAsync(int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = null);
        builder.Services.Configure<FormOptions>(o => o.MultipartBodyLengthLimit = 1L << 34);
        var app = builder.Build();
        app.Use(HandleAsync);
        MapControl(app);
        MapApi(app);
        await app.StartAsync();
        _app = app;
        var address = new Uri(app.Urls.First());
        BaseUrl = new Uri($"http://127.0.0.1:{address.Port}/v1");
    }

    internal async Task StopAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    private async Task HandleAsync(HttpContext context, RequestDelegate next)
    {
        var request = context.Request;
        if (request.Path.StartsWithSegments("/_control"))
        {
            await next(context);
            return;
        }
        string? body = null;
        if (request.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) == true)
        {
            request.EnableBuffering();
            using var reader = new StreamReader(request.Body, Encoding.UTF8, leaveOpen: true);
            body = await reader.ReadToEndAsync(context.RequestAborted);
            request.Body.Position = 0;
        }
        var fault = Faults.Take(request.Method, request.Path.Value ?? "");
        Requests.Add(new RecordedRequest(DateTimeOffset.UtcNow, request.Method, request.Path.Value ?? "", request.QueryString.Value ?? "",
            request.Headers.Authorization.ToString() is { Length: > 0 } auth ? auth : null, body, fault?.Kind));
        if (fault is not null && await ApplyAsync(fault, context))
        {
            return;
        }
        if (!request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.Ordinal)
            || request.Headers.Authorization.ToString().Length <= "Bearer ".Length)
        {
            await WriteErrorAsync(context, 401, "You didn't provide an API key. Provide it in the Authorization header (Bearer auth).", "invalid_request_error", null, "missing_api_key");
            return;
        }
        await next(context);
    }

    /// <summary>Applies a fault; true when the fault answered the request itself.</summary>
    private async Task<bool> ApplyAsync(FaultRule fault, HttpContext context)
    {
        switch (fault.Kind)
        {
            case FaultKinds.RateLimit:
                context.Response.Headers.RetryAfter = (fault.RetryAfterSeconds ?? 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
                await WriteErrorAsync(context, 429, fault.Message ?? "Rate limit reached for requests. Please try again later.", "requests", null, "rate_limit_exceeded");
                return true;
            case FaultKinds.ServerError:
                await WriteErrorAsync(context, fault.Status ?? 500, fault.Message ?? "The server had an error while processing your request. Sorry about that!", "server_error", null, null);
                return true;
            case FaultKinds.Slow:
                await Task.Delay(fault.DelayMilliseconds ?? 5000, context.RequestAborted);
                return false;
            case FaultKinds.Malformed:
                context.Response.StatusCode = 200;
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync("{\"id\":\"ftjob-trunc", context.RequestAborted);
                return true;
            case FaultKinds.PermissionDenied:
                await WriteErrorAsync(context, fault.Status ?? 403, fault.Message ?? PermissionDeniedMessage, "invalid_request_error", null, fault.Code ?? "permission_denied");
                return true;
            case FaultKinds.Unauthorized:
                await WriteErrorAsync(context, 401, fault.Message ?? "Incorrect API key provided.", "invalid_request_error", null, "invalid_api_key");
                return true;
            default:
                return false;
        }
    }

    /// <summary>The provider's words when an account may not fine-tune.</summary>
    protected virtual string PermissionDeniedMessage => "You do not have permission to create fine-tuning jobs.";

    /// <summary>The error envelope both providers use: <c>{"error":{"message","type","param","code"}}</c>.</summary>
    protected static Task WriteErrorAsync(HttpContext context, int status, string message, string type, string? param, string? code)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        var body = new JsonObject
        {
            ["error"] = new JsonObject { ["message"] = message, ["type"] = type, ["param"] = param, ["code"] = code },
        };
        return context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted);
    }

    protected static IResult Error(int status, string message, string type = "invalid_request_error", string? param = null, string? code = null) =>
        new ErrorResult(status, message, type, param, code);

    protected static IResult Json(JsonNode node) => Results.Text(node.ToJsonString(), "application/json");

    /// <summary>The fault rule asking the next created job to fail, if one is set.</summary>
    protected FaultRule? TakeJobFailure(string path) => Faults.Take("POST", path, jobCreation: true);

    private void MapControl(WebApplication app)
    {
        var control = app.MapGroup("/_control");
        control.MapPost("/faults", async (HttpContext context) =>
        {
            FaultRule? rule;
            try
            {
                rule = await JsonSerializer.DeserializeAsync<FaultRule>(context.Request.Body, ControlJson, context.RequestAborted);
                if (rule is null)
                {
                    return Results.BadRequest(new { error = "A fault rule is required: {kind, count|rate, path, method, retryAfterSeconds, delayMilliseconds, status, message, code}." });
                }
                return Results.Ok(Faults.Add(rule));
            }
            catch (Exception e) when (e is JsonException or ArgumentException)
            {
                return Results.BadRequest(new { error = e.Message });
            }
        });
        control.MapGet("/faults", () => Results.Ok(Faults.Rules));
        control.MapDelete("/faults", () =>
        {
            Faults.Clear();
            return Results.NoContent();
        });
        control.MapGet("/requests", () => Results.Ok(Requests.All));
        control.MapDelete("/requests", () =>
        {
            Requests.Clear();
            return Results.NoContent();
        });
        control.MapGet("/jobs", () => Json(JobsForControl()));
        control.MapPost("/clock/advance", (double seconds) =>
        {
            Clock.Advance(TimeSpan.FromSeconds(seconds));
            return Results.Ok(new { now = Clock.Now });
        });
    }

    private sealed class ErrorResult(int status, string message, string type, string? param, string? code) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext) => WriteErrorAsync(httpContext, status, message, type, param, code);
    }
}
