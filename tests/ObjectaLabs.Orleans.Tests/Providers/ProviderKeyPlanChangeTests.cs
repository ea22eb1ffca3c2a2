using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using ObjectaLabs.Orleans.Providers.Accounts;
using ObjectaLabs.Orleans.Tests.Infrastructure;

namespace ObjectaLabs.Orleans.Tests.Providers;

/// <summary>An organization that leaves Enterprise keeps the right to take its own provider key back.</summary>
public sealed class ProviderKeyPlanChangeTests(ProviderKeysFixture fixture) : IClassFixture<ProviderKeysFixture>
{
    [Fact]
    public async Task A_downgraded_organization_can_remove_its_own_key_but_not_set_a_new_one()
    {
        var (org, admin) = await fixture.CreateOrganizationAsync("enterprise");
        using var client = fixture.Client(admin);
        using var platform = fixture.Client(fixture.AdminKey);
        var key = "sk-byo-" + Guid.NewGuid().ToString("N");
        (await client.PutAsJsonAsync($"/v1/organizations/{org}/provider-keys/openai", new { apiKey = key })).EnsureSuccessStatusCode();
        (await platform.PutAsJsonAsync($"/v1/organizations/{org}/plan", new { plan = "business" })).EnsureSuccessStatusCode();

        var setAgain = await client.PutAsJsonAsync($"/v1/organizations/{org}/provider-keys/openai", new { apiKey = key + "x" });
        var removed = await client.DeleteAsync($"/v1/organizations/{org}/provider-keys/openai");
        var account = await fixture.Silo.Services.GetRequiredService<ProviderAccounts>().ResolveAsync(org, "openai");

        await setAgain.ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        removed.StatusCode.Should().Be(HttpStatusCode.OK, await removed.Content.ReadAsStringAsync());
        account.ApiKey.Should().Be(ProviderKeysFixture.PlatformOpenAiKey, "with its own key gone, jobs use the platform's account");
    }
}
