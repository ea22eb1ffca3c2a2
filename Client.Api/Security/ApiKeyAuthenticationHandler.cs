using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using ObjectaLabs.Orleans.Organizations;

namespace ObjectaLabs.Orleans.Api.Security;

/// <summary>
/// Reads an API key from <c>Authorization: Bearer</c>, <c>X-Api-Key</c>, or HTTP Basic (the password;
/// this is what a browser sends for the dashboard) and turns it into claims. Basic counts only under
/// <c>/dashboard</c>: a browser replays cached Basic credentials on any request to the host, so a cross-site
/// form must not be able to reach the API with them.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeyValidator validator,
    IProblemDetailsService problems) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string PlatformAdminRole = "platform-admin";
    public const string OrganizationClaim = "org";
    public const string ScopeClaim = "scope";
    public const string KeyIdClaim = "key_id";
    private const string ThrottledItem = "objectalabs.unverified-key-throttled";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var presented = ReadKey(Request);
        if (presented is null)
        {
            return AuthenticateResult.NoResult();
        }
        var validation = await validator.ValidateAsync(presented, Context.Connection.RemoteIpAddress);
        if (validation.RetryAfter is { } wait)
        {
            Context.Items[ThrottledItem] = wait;
            return AuthenticateResult.Fail("Too many unverified API keys from this address.");
        }
        if (validation.Caller is not { } caller)
        {
            return AuthenticateResult.Fail("The API key is not valid or has been revoked.");
        }
        return AuthenticateResult.Success(new AuthenticationTicket(caller.Principal, SchemeName));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if (Context.Items[ThrottledItem] is TimeSpan wait)
        {
            await WriteThrottledAsync(wait);
            return;
        }
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = IsDashboard(Request)
            ? "Bearer, Basic realm=\"ObjectaLabs\", charset=\"UTF-8\""
            : "Bearer";
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails =
            {
                Status = StatusCodes.Status401Unauthorized,
                Title = "Authentication required",
                Detail = ReadKey(Request) is null
                    ? IsBasic(Request) && !IsDashboard(Request)
                        ? "HTTP Basic is accepted only for the dashboard; send the API key as 'Authorization: Bearer <key>'."
                        : "Send an API key as 'Authorization: Bearer <key>'."
                    : "The API key is not valid or has been revoked.",
            },
        });
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails =
            {
                Status = StatusCodes.Status403Forbidden,
                Title = "Forbidden",
                Detail = "This key's scope does not allow this operation.",
            },
        });
    }

    /// <summary>429 for a key that could not be checked because its address sent too many unverified keys.</summary>
    private async Task WriteThrottledAsync(TimeSpan wait)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
        Response.StatusCode = StatusCodes.Status429TooManyRequests;
        Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails =
            {
                Status = StatusCodes.Status429TooManyRequests,
                Title = "Too many requests",
                Detail = $"Too many API keys not known to be valid were sent from this address; retry after {seconds} s.",
                Extensions = { ["retryAfterSeconds"] = seconds },
            },
        });
    }

    private static bool IsDashboard(HttpRequest request) => request.Path.StartsWithSegments("/dashboard");

    private static bool IsBasic(HttpRequest request) =>
        AuthenticationHeaderValue.TryParse(request.Headers.Authorization, out var auth)
        && auth.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase);

    private static string? ReadKey(HttpRequest request)
    {
        if (request.Headers.TryGetValue("X-Api-Key", out var header) && header.Count == 1 && !string.IsNullOrWhiteSpace(header[0]))
        {
            return header[0]!.Trim();
        }
        if (!AuthenticationHeaderValue.TryParse(request.Headers.Authorization, out var auth) || string.IsNullOrWhiteSpace(auth.Parameter))
        {
            return null;
        }
        if (auth.Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase))
        {
            return auth.Parameter.Trim();
        }
        if (auth.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase) && IsDashboard(request))
        {
            try
            {
                var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(auth.Parameter));
                var colon = decoded.IndexOf(':', StringComparison.Ordinal);
                return colon >= 0 ? decoded[(colon + 1)..] : null;
            }
            catch (FormatException)
            {
                return null;
            }
        }
        return null;
    }
}

/// <summary>Reads the caller the handler set: from its typed identity, or (any other principal) from the claims.</summary>
public static class CallerClaims
{
    public static Caller? Caller(this ClaimsPrincipal user) => (user.Identity as CallerIdentity)?.Caller;

    public static bool IsPlatformAdmin(this ClaimsPrincipal user) =>
        user.Caller() is { } caller ? caller.IsPlatformAdmin : user.IsInRole(ApiKeyAuthenticationHandler.PlatformAdminRole);

    public static Guid? OrganizationId(this ClaimsPrincipal user) =>
        user.Caller() is { } caller ? caller.Key?.OrganizationId
        : Guid.TryParse(user.FindFirstValue(ApiKeyAuthenticationHandler.OrganizationClaim), out var id) ? id : null;

    public static ApiKeyScope? Scope(this ClaimsPrincipal user) =>
        user.Caller() is { } caller ? caller.Key?.Scope
        : Enum.TryParse<ApiKeyScope>(user.FindFirstValue(ApiKeyAuthenticationHandler.ScopeClaim), out var scope) ? scope : null;
}
