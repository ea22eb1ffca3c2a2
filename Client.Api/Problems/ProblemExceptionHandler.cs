using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using ObjectaLabs.Orleans.Problems;

namespace ObjectaLabs.Orleans.Api.Problems;

/// <summary>
/// Turns refusals into RFC 9457 problem details: the domain's <see cref="ProblemException"/> (with the
/// field and the figures it names), and malformed, oversized or mistyped request bodies (with the JSON
/// path and line at fault). Anything else is a 500 that reveals nothing internal.
/// </summary>
public sealed class ProblemExceptionHandler(IProblemDetailsService problems, ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken cancellationToken)
    {
        var details = exception switch
        {
            ProblemException p => FromDomain(p),
            BadHttpRequestException b => FromBadRequest(b, (http.Features.Get<IExceptionHandlerFeature>()?.Endpoint ?? http.GetEndpoint())?.Metadata.GetMetadata<Microsoft.AspNetCore.Http.Metadata.IAcceptsMetadata>()?.RequestType),
            _ when ServiceUnavailable.Is(exception) => Unavailable(http, exception),
            _ => null,
        };
        if (details is null)
        {
            logger.LogError(exception, "Unhandled error on {Method} {Path}", http.Request.Method, http.Request.Path);
            details = new Microsoft.AspNetCore.Mvc.ProblemDetails
            {
                Status = StatusCodes.Status500InternalServerError,
                Title = "Internal error",
                Detail = "The request failed on our side; it is safe to retry. Quote the traceId when reporting it.",
            };
        }
        http.Response.StatusCode = details.Status!.Value;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = http, ProblemDetails = details, Exception = exception });
    }

    private Microsoft.AspNetCore.Mvc.ProblemDetails Unavailable(HttpContext http, Exception exception)
    {
        logger.LogWarning("{Method} {Path}: the database or the cluster is unavailable ({Reason})", http.Request.Method, http.Request.Path, exception.GetBaseException().Message);
        http.Response.Headers.RetryAfter = ServiceUnavailable.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return new Microsoft.AspNetCore.Mvc.ProblemDetails
        {
            Status = StatusCodes.Status503ServiceUnavailable,
            Title = "Service unavailable",
            Detail = $"The service cannot reach its database or cluster right now. Retry after {ServiceUnavailable.RetryAfterSeconds} s.",
            Extensions = { ["retryAfterSeconds"] = ServiceUnavailable.RetryAfterSeconds },
        };
    }

    private static Microsoft.AspNetCore.Mvc.ProblemDetails FromDomain(ProblemException p)
    {
        var details = new Microsoft.AspNetCore.Mvc.ProblemDetails
        {
            Status = p.Kind switch
            {
                ProblemKind.NotFound => StatusCodes.Status404NotFound,
                ProblemKind.Conflict => StatusCodes.Status409Conflict,
                ProblemKind.PlanLimit => StatusCodes.Status403Forbidden,
                ProblemKind.Forbidden => StatusCodes.Status403Forbidden,
                _ => StatusCodes.Status400BadRequest,
            },
            Title = p.Title,
            Detail = p.Message,
            Type = p.Kind == ProblemKind.PlanLimit ? "urn:objectalabs:problem:plan-limit" : null,
        };
        if (p.Field is not null)
        {
            details.Extensions["field"] = p.Field;
            details.Extensions["errors"] = new Dictionary<string, string[]> { [p.Field] = [p.Message] };
        }
        foreach (var (key, value) in p.Extensions)
        {
            details.Extensions[key] = value;
        }
        foreach (var (key, value) in p.Figures)
        {
            details.Extensions[key] = value;
        }
        return details;
    }

    private static Microsoft.AspNetCore.Mvc.ProblemDetails FromBadRequest(BadHttpRequestException b, Type? bodyType)
    {
        var details = new Microsoft.AspNetCore.Mvc.ProblemDetails { Status = b.StatusCode };
        switch (b.InnerException)
        {
            case JsonException json:
                var field = string.IsNullOrEmpty(json.Path) ? "$" : json.Path;
                var (jsonTitle, jsonDetail) = JsonBindingMessages.Describe(json, field, bodyType);
                details.Title = jsonTitle;
                details.Detail = jsonDetail;
                details.Extensions["field"] = field;
                if (json.LineNumber is { } l)
                {
                    details.Extensions["line"] = l + 1;
                }
                break;
            default:
                if (BindingMessages.Translate(b.Message) is var (title, detail, boundField))
                {
                    details.Title = title;
                    details.Detail = detail;
                    if (boundField is not null)
                    {
                        details.Extensions["field"] = boundField;
                    }
                    break;
                }
                details.Title = b.StatusCode switch
                {
                    StatusCodes.Status413PayloadTooLarge => "Request body too large",
                    StatusCodes.Status415UnsupportedMediaType => "Unsupported media type",
                    _ => "Bad request",
                };
                details.Detail = b.StatusCode == StatusCodes.Status413PayloadTooLarge
                    ? "The request body is larger than this endpoint accepts."
                    : b.Message;
                break;
        }
        return details;
    }
}
