using ObjectaLabs.Orleans.Api.Resolution;
using ObjectaLabs.Orleans.Deployment;
using ObjectaLabs.Orleans.Organizations;

namespace ObjectaLabs.Orleans.Tests.Resolution;

/// <summary>Key checks from a held snapshot: the active keys only, the right secret only, and use remembered until reported.</summary>
public sealed class HeldOrganizationTests
{
    private static readonly Guid Org = Guid.NewGuid();
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    private static (string KeyId, string Key, ActiveKey Active) NewKey(ApiKeyScope scope)
    {
        var (keyId, key, _) = ApiKeyFormat.Create(Org);
        return (keyId, key, new ActiveKey(keyId, scope, ApiKeyFormat.Hash(key)));
    }

    private static ResolutionSnapshot Snapshot(long version, params ActiveKey[] keys) =>
        new(Org, version, new Dictionary<Guid, AgentDeployment>(), new Dictionary<Guid, ModelTarget>(), new Dictionary<string, ModelTarget>(), keys);

    [Fact]
    public void A_listed_key_with_its_secret_is_the_caller_with_its_scope_and_anything_else_is_not()
    {
        var runtime = NewKey(ApiKeyScope.Runtime);
        var other = NewKey(ApiKeyScope.Admin);
        var held = new HeldOrganization(Snapshot(1, runtime.Active), previous: null);

        var valid = held.Check(runtime.Key, runtime.KeyId, Now, out var validListed);
        var wrongSecret = held.Check(runtime.Key[..^1] + (runtime.Key[^1] == 'a' ? 'b' : 'a'), runtime.KeyId, Now, out var wrongListed);
        var unlisted = held.Check(other.Key, other.KeyId, Now, out var unlistedListed);

        valid.Should().NotBeNull();
        valid!.Key!.Scope.Should().Be(ApiKeyScope.Runtime);
        valid.Key.OrganizationId.Should().Be(Org);
        validListed.Should().BeTrue();
        wrongSecret.Should().BeNull();
        wrongListed.Should().BeTrue("the id is active: refused from memory, no grain call");
        unlisted.Should().BeNull();
        unlistedListed.Should().BeFalse("an id not active here goes to the grain, which knows revoked from just issued");
    }

    [Fact]
    public void A_key_removed_locally_is_no_longer_listed_and_use_survives_a_new_snapshot_until_taken()
    {
        var kept = NewKey(ApiKeyScope.Runtime);
        var revoked = NewKey(ApiKeyScope.Admin);
        var held = new HeldOrganization(Snapshot(1, kept.Active, revoked.Active), previous: null);
        held.Check(kept.Key, kept.KeyId, Now, out _);
        held.Check(kept.Key, kept.KeyId, Now.AddSeconds(5), out _);

        var without = held.Without(revoked.KeyId);
        var next = new HeldOrganization(Snapshot(2, kept.Active), without);
        var taken = next.TakeKeyUse();
        var takenAgain = next.TakeKeyUse();

        without.Lists(revoked.KeyId).Should().BeFalse();
        without.Check(revoked.Key, revoked.KeyId, Now, out var listed).Should().BeNull();
        listed.Should().BeFalse();
        taken.Should().Equal(new Dictionary<string, DateTimeOffset> { [kept.KeyId] = Now }, "the first use since the last report is reported");
        takenAgain.Should().BeEmpty("reported use is cleared");
    }
}
