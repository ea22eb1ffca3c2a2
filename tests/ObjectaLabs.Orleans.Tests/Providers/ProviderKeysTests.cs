using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using ObjectaLabs.Orleans.Problems;
using ObjectaLabs.Orleans.Providers;
using ObjectaLabs.Orleans.Providers.Accounts;
using ObjectaLabs.Orleans.Providers.OpenAi;
using ObjectaLabs.Orleans.Tests.Infrastructure;

namespace ObjectaLabs.Orleans.Tests.Providers;

/// <summary>Provider accounts and Enterprise organizations' own keys, through the real API, silo and PostgreSQL.</summary>
public sealed class ProviderKeysTests(ProviderKeysFixture fixture) : IClassFixture<ProviderKeysFixture>
{
    private ProviderAccounts Accounts => fixture.Silo.Services.GetRequiredService<ProviderAccounts>();
    private ProviderKeyStore Store => fixture.Silo.Services.GetRequiredService<ProviderKeyStore>();

    private static string NewKey() => "sk-byo-" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task An_own_key_is_stored_encrypted_shown_only_by_last4_and_fingerprint_and_never_logged()
    {
        var (org, admin) = await fixture.CreateOrganizationAsync("enterprise");
        using var client = fixture.Client(admin);
        var key = NewKey();

        var put = await client.PutAsJsonAsync($"/v1/organizations/{org}/provider-keys/openai", new { apiKey = key });
        var putBody = await put.Content.ReadAsStringAsync();
        var list = await client.GetAsync($"/v1/organizations/{org}/provider-keys");
        var listBody = await list.Content.ReadAsStringAsync();
        var account = await Accounts.ResolveAsync(org, "openai");

        put.StatusCode.Should().Be(HttpStatusCode.OK);
        putBody.Should().NotContain(key).And.Contain(key[^4..]).And.Contain(ProviderKeyStore.Fingerprint(key));
        listBody.Should().NotContain(key);
        var entries = JsonDocument.Parse(listBody).RootElement.EnumerateArray().ToDictionary(e => e.GetProperty("provider").GetString()!);
        entries["openai"].GetProperty("configured").GetBoolean().Should().BeTrue();
        entries["openai"].GetProperty("last4").GetString().Should().Be(key[^4..]);
        entries["together"].GetProperty("configured").GetBoolean().Should().BeFalse();
        await using var connection = await fixture.Database.DataSource.OpenConnectionAsync();
        var stored = await connection.QuerySingleAsync<string>("SELECT ciphertext FROM organization_provider_keys WHERE organization_id = @org AND provider = 'openai'", new { org });
        stored.Should().NotContain(key).And.NotBe(key);
        (await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM data_protection_keys")).Should().BeGreaterThan(0, "the key ring lives in PostgreSQL");
        account.ApiKey.Should().Be(key);
        account.ToString().Should().NotContain(key);
        fixture.Logs.Lines.Should().NotBeEmpty().And.NotContain(l => l.Contains(key, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Jobs_of_an_organization_with_its_own_key_call_the_provider_with_that_key()
    {
        var (org, admin) = await fixture.CreateOrganizationAsync("enterprise");
        using var client = fixture.Client(admin);
        var key = NewKey();
        (await client.PutAsJsonAsync($"/v1/organizations/{org}/provider-keys/openai", new { apiKey = key })).EnsureSuccessStatusCode();
        var (other, _) = await fixture.CreateOrganizationAsync("enterprise");
        var provider = fixture.Silo.Services.GetRequiredService<OpenAiProvider>();
        var (write, sha) = ProviderTestHost.Jsonl(10, "byo-" + org);

        var own = await Accounts.ResolveAsync(org, "openai");
        await provider.UploadFileAsync(own, "train.jsonl", write, sha, default);
        var platform = await Accounts.ResolveAsync(other, "openai");

        fixture.Emulators.OpenAi.Requests.All.Last(r => r.Path == "/v1/files").Authorization.Should().Be("Bearer " + key);
        platform.ApiKey.Should().Be(ProviderKeysFixture.PlatformOpenAiKey, "another organization never gets this organization's key");
    }

    [Fact]
    public async Task A_ciphertext_copied_to_another_organization_does_not_decrypt()
    {
        var (org, admin) = await fixture.CreateOrganizationAsync("enterprise");
        var (other, _) = await fixture.CreateOrganizationAsync("enterprise");
        using var client = fixture.Client(admin);
        (await client.PutAsJsonAsync($"/v1/organizations/{org}/provider-keys/together", new { apiKey = NewKey() })).EnsureSuccessStatusCode();
        await using var connection = await fixture.Database.DataSource.OpenConnectionAsync();
        await connection.ExecuteAsync(
            """
            INSERT INTO organization_provider_keys (organization_id, provider, ciphertext, last4, fingerprint)
            SELECT @other, provider, ciphertext, last4, fingerprint FROM organization_provider_keys WHERE organization_id = @org AND provider = 'together'
            """, new { org, other });

        await Store.Invoking(s => s.GetKeyAsync(other, "together")).Should().ThrowAsync<CryptographicException>();
    }

    [Fact]
    public async Task Another_organizations_admin_can_neither_read_nor_set_its_keys()
    {
        var (org, admin) = await fixture.CreateOrganizationAsync("enterprise");
        var (_, otherAdmin) = await fixture.CreateOrganizationAsync("enterprise");
        using var own = fixture.Client(admin);
        (await own.PutAsJsonAsync($"/v1/organizations/{org}/provider-keys/openai", new { apiKey = NewKey() })).EnsureSuccessStatusCode();
        using var intruder = fixture.Client(otherAdmin);

        var read = await intruder.GetAsync($"/v1/organizations/{org}/provider-keys");
        var write = await intruder.PutAsJsonAsync($"/v1/organizations/{org}/provider-keys/openai", new { apiKey = NewKey() });
        var delete = await intruder.DeleteAsync($"/v1/organizations/{org}/provider-keys/openai");

        read.StatusCode.Should().Be(HttpStatusCode.NotFound);
        write.StatusCode.Should().Be(HttpStatusCode.NotFound);
        delete.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await Store.ListAsync(org)).Single(k => k.Provider == "openai").Configured.Should().BeTrue();
    }

    [Fact]
    public async Task Only_an_enterprise_organization_may_bring_its_own_key_and_a_refusal_stores_nothing()
    {
        var (org, admin) = await fixture.CreateOrganizationAsync("business");
        using var client = fixture.Client(admin);

        var response = await client.PutAsJsonAsync($"/v1/organizations/{org}/provider-keys/openai", new { apiKey = NewKey() });

        await response.ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        (await response.Content.ReadAsStringAsync()).Should().Contain("Enterprise");
        (await Store.ListAsync(org)).Should().OnlyContain(k => !k.Configured);
    }

    [Theory]
    [InlineData("openai", "", "apiKey")]
    [InlineData("openai", "short", "apiKey")]
    [InlineData("openai", "sk-with space-0123456789", "apiKey")]
    [InlineData("sandbox", "sk-0123456789abcdef", "provider")]
    [InlineData("fireworks", "sk-0123456789abcdef", "provider")]
    public async Task A_bad_key_or_provider_is_refused_naming_the_field(string provider, string apiKey, string field)
    {
        var (org, admin) = await fixture.CreateOrganizationAsync("enterprise");
        using var client = fixture.Client(admin);

        var response = await client.PutAsJsonAsync($"/v1/organizations/{org}/provider-keys/{provider}", new { apiKey });

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        problem.GetProperty("field").GetString().Should().Be(field);
        (await Store.ListAsync(org)).Should().OnlyContain(k => !k.Configured);
    }

    [Fact]
    public async Task Removing_a_key_falls_back_to_the_platform_and_removing_it_twice_is_not_found()
    {
        var (org, admin) = await fixture.CreateOrganizationAsync("enterprise");
        using var client = fixture.Client(admin);
        (await client.PutAsJsonAsync($"/v1/organizations/{org}/provider-keys/openai", new { apiKey = NewKey() })).EnsureSuccessStatusCode();

        var first = await client.DeleteAsync($"/v1/organizations/{org}/provider-keys/openai");
        var second = await client.DeleteAsync($"/v1/organizations/{org}/provider-keys/openai");
        var account = await Accounts.ResolveAsync(org, "openai");

        first.StatusCode.Should().Be(HttpStatusCode.OK);
        second.StatusCode.Should().Be(HttpStatusCode.NotFound);
        account.ApiKey.Should().Be(ProviderKeysFixture.PlatformOpenAiKey);
    }

    [Fact]
    public async Task A_provider_without_any_key_is_not_configured_until_the_organization_sets_its_own()
    {
        var (org, admin) = await fixture.CreateOrganizationAsync("enterprise");
        using var client = fixture.Client(admin);

        var refusal = await Accounts.Invoking(a => a.ResolveAsync(org, "together")).Should().ThrowAsync<ProblemException>();
        (await client.PutAsJsonAsync($"/v1/organizations/{org}/provider-keys/together", new { apiKey = "tg-own-0123456789" })).EnsureSuccessStatusCode();
        var account = await Accounts.ResolveAsync(org, "together");
        var sandbox = await Accounts.ResolveAsync(org, "sandbox");

        refusal.Which.Title.Should().Be("Provider not configured");
        refusal.Which.Field.Should().Be("provider");
        refusal.Which.Message.Should().Contain("sandbox");
        Accounts.IsPlatformConfigured("together").Should().BeFalse();
        Accounts.IsPlatformConfigured("openai").Should().BeTrue();
        account.ApiKey.Should().Be("tg-own-0123456789");
        account.BaseUrl.Should().Be(fixture.Emulators.TogetherBaseUrl);
        sandbox.Provider.Should().Be("sandbox");
    }
}
