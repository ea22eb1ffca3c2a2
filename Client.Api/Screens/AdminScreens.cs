using Microsoft.Extensions.FileProviders;

namespace ObjectaLabs.Orleans.Api.Screens;

/// <summary>
/// The spec's two admin screens (Fine-Tuning Dashboard, Training Data Manager) and the experiments view: plain HTML,
/// CSS and JavaScript modules embedded in this assembly and served under <see cref="Path"/>, with no build step and
/// nothing fetched from elsewhere. They call the same API as curl with the admin key the user signs in with, which
/// they keep in the tab's session storage only; so they add no route and no rule of their own.
/// </summary>
public static class AdminScreens
{
    public const string Path = "/app";

    /// <summary>
    /// Only this origin's scripts, styles and API; no inline script, no framing, no referrer (the key never travels
    /// in a URL anyway).
    /// </summary>
    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

    public static IApplicationBuilder UseAdminScreens(this WebApplication app)
    {
        var files = new EmbeddedFileProvider(typeof(AdminScreens).Assembly, "Screens");
        app.Use((http, next) =>
        {
            if (http.Request.Path.Equals(Path, StringComparison.Ordinal))
            {
                http.Response.Redirect(Path + "/", permanent: false);
                return Task.CompletedTask;
            }
            if (http.Request.Path.StartsWithSegments(Path))
            {
                var headers = http.Response.Headers;
                headers.ContentSecurityPolicy = ContentSecurityPolicy;
                headers.XContentTypeOptions = "nosniff";
                headers["Referrer-Policy"] = "no-referrer";
                headers.CacheControl = "no-cache";
            }
            return next(http);
        });
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files, RequestPath = Path });
        app.UseStaticFiles(new StaticFileOptions { FileProvider = files, RequestPath = Path });
        return app;
    }
}
