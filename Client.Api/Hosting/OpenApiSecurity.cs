using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace ObjectaLabs.Orleans.Api.Hosting;

/// <summary>Describes the API-key bearer scheme in the OpenAPI document, so the reference page can send keys.</summary>
public sealed class OpenApiSecurity : IOpenApiDocumentTransformer
{
    public const string SchemeId = "apiKey";

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info.Title = "ObjectaLabs fine-tuning API";
        document.Info.Description =
            "Training data, fine-tuning jobs, the model registry and per-request model resolution. " +
            "Authenticate with 'Authorization: Bearer <key>': the platform admin key, or an organization key with scope 'admin' or 'runtime'. " +
            "Errors are RFC 9457 problem details naming the field at fault.";
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[SchemeId] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "An ObjectaLabs API key (olp_… platform admin, olk_… organization).",
        };
        document.Security ??= [];
        document.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(SchemeId, document)] = [] });
        return Task.CompletedTask;
    }
}
