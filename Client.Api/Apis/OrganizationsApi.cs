using System.Globalization;
using System.Text;
using ObjectaLabs.Orleans.Api.Security;
using ObjectaLabs.Orleans.Organizations;
using ObjectaLabs.Orleans.Problems;

namespace ObjectaLabs.Orleans.Api.Apis;

public static class OrganizationsApi
{
    public static IEndpointRouteBuilder MapOrganizationsApi(this IEndpointRouteBuilder app)
    {
        var platform = app.MapGroup("/v1/organizations").WithTags("Organizations")
            .RequireAuthorization(OrganizationAccess.PlatformPolicy);
        platform.MapPost("/", CreateOrganization).WithSummary("Creates an organization and returns its first admin key (shown once). Platform admin only.");
        platform.MapGet("/", ListOrganizations).WithSummary("Lists organizations, oldest first, with a cursor. Platform admin only.");
        platform.MapPut("/{orgId:guid}/plan", ChangePlan).WithSummary("Moves an organization to another plan. Platform admin only.");

        var organization = app.MapGroup("/v1/organizations/{orgId:guid}").WithTags("Organizations")
            .RequireOrganizationScope(ApiKeyScope.Admin);
        organization.MapGet("/", GetOrganization).WithSummary("The organization, its plan and usage counts.");
        organization.MapPatch("/", UpdateOrganization).WithSummary("Renames the organization.");
        return app;
    }

    /// <summary>A new organization.</summary>
    public sealed record CreateOrganizationRequest(string? Name, string? Plan);

    /// <summary>New values for an organization; absent fields are unchanged.</summary>
    public sealed record UpdateOrganizationRequest(string? Name);

    /// <summary>The plan to move to.</summary>
    public sealed record ChangePlanRequest(string? Plan);

    /// <summary>A page of organizations and the cursor for the next one (null at the end).</summary>
    public sealed record OrganizationPage(IReadOnlyList<OrganizationSummary> Items, string? NextCursor);

    public static async Task<Created<OrganizationCreated>> CreateOrganization(CreateOrganizationRequest request, IGrainFactory grains, ApiKeyValidator validator)
    {
        var id = Guid.CreateVersion7();
        var created = await grains.GetGrain<IOrganizationGrain>(id).CreateAsync(
            request.Name ?? throw ProblemException.Invalid("name", "'name' is required."),
            request.Plan ?? throw ProblemException.Invalid("plan", "'plan' is required."));
        validator.Issued(created.AdminKey);
        return TypedResults.Created($"/v1/organizations/{id}", created);
    }

    public static async Task<Ok<OrganizationPage>> ListOrganizations(IGrainFactory grains, int? limit, string? cursor)
    {
        var size = limit ?? 50;
        if (size is < 1 or > 200)
        {
            throw ProblemException.Invalid("limit", "'limit' must be between 1 and 200.");
        }
        var (after, afterId) = DecodeCursor(cursor);
        var items = await grains.GetGrain<IOrganizationDirectoryGrain>(0).ListAsync(after, afterId, size);
        var next = items.Count == size ? EncodeCursor(items[^1]) : null;
        return TypedResults.Ok(new OrganizationPage(items, next));
    }

    public static async Task<Ok<OrganizationSnapshot>> GetOrganization(Guid orgId, IGrainFactory grains) =>
        TypedResults.Ok(await grains.GetGrain<IOrganizationGrain>(orgId).GetAsync());

    public static async Task<Ok<OrganizationSnapshot>> UpdateOrganization(Guid orgId, UpdateOrganizationRequest request, IGrainFactory grains)
    {
        var grain = grains.GetGrain<IOrganizationGrain>(orgId);
        return TypedResults.Ok(request.Name is null ? await grain.GetAsync() : await grain.RenameAsync(request.Name));
    }

    public static async Task<Ok<OrganizationSnapshot>> ChangePlan(Guid orgId, ChangePlanRequest request, IGrainFactory grains) =>
        TypedResults.Ok(await grains.GetGrain<IOrganizationGrain>(orgId).ChangePlanAsync(
            request.Plan ?? throw ProblemException.Invalid("plan", "'plan' is required.")));

    private static string EncodeCursor(OrganizationSummary last) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"{last.CreatedAt.UtcTicks.ToString(CultureInfo.InvariantCulture)}|{last.Id:N}"));

    private static (DateTimeOffset? After, Guid? AfterId) DecodeCursor(string? cursor)
    {
        if (string.IsNullOrEmpty(cursor))
        {
            return (null, null);
        }
        try
        {
            var parts = Encoding.UTF8.GetString(Convert.FromBase64String(cursor)).Split('|');
            return (new DateTimeOffset(long.Parse(parts[0], CultureInfo.InvariantCulture), TimeSpan.Zero), Guid.ParseExact(parts[1], "N"));
        }
        catch (Exception e) when (e is FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException or OverflowException)
        {
            throw ProblemException.Invalid("cursor", "'cursor' is not a cursor this API returned.");
        }
    }
}
