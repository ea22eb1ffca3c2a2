using Microsoft.Extensions.Logging.Abstractions;
using ObjectaLabs.Orleans.Api.Security;

namespace ObjectaLabs.Orleans.Tests.Security;

/// <summary>The platform admin key: a configured one is trimmed and must be strong; a generated one is private from its creation.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class PlatformAdminKeyTests : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("objectalabs-platform-");

    [Fact]
    public void A_configured_key_is_trimmed()
    {
        var key = "olp_" + Guid.NewGuid().ToString("N");

        var resolved = PlatformAdminKey.Resolve(new PlatformOptions { AdminKey = $"  {key}\n" }, NullLogger.Instance);

        resolved.Matches(key).Should().BeTrue("a key read from a file or an environment variable often carries a newline");
    }

    [Theory]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "Platform:AdminKey is too simple*")]
    [InlineData("abababababababababababababababab", "Platform:AdminKey is too simple*")]
    [InlineData("012345601234560123456012", "Platform:AdminKey is too simple*")]
    [InlineData("   olp_padded_short_key   ", "Platform:AdminKey must be at least 24 characters*")]
    public void A_weak_configured_key_is_refused_naming_the_setting(string key, string message)
    {
        var resolve = () => PlatformAdminKey.Resolve(new PlatformOptions { AdminKey = key }, NullLogger.Instance);

        resolve.Should().Throw<InvalidOperationException>().WithMessage(message);
    }

    [Fact]
    public void A_generated_key_file_is_private_complete_and_kept()
    {
        var options = new PlatformOptions { DataDirectory = _folder.FullName };

        var first = PlatformAdminKey.Resolve(options, NullLogger.Instance);
        var path = Path.Combine(_folder.FullName, PlatformAdminKey.FileName);
        var key = File.ReadAllText(path);
        var second = PlatformAdminKey.Resolve(options, NullLogger.Instance);

        File.GetUnixFileMode(path).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        _folder.GetFiles().Select(f => f.Name).Should().Equal(PlatformAdminKey.FileName);
        key.Should().StartWith("olp_").And.HaveLength(44);
        first.Matches(key).Should().BeTrue();
        second.Matches(key).Should().BeTrue();
    }

    [Fact]
    public void A_secret_file_is_created_private_and_an_existing_one_is_never_replaced()
    {
        var path = Path.Combine(_folder.FullName, "secret");

        var created = PlatformAdminKey.WriteNewSecret(path, "first");
        var mode = File.GetUnixFileMode(path);
        var again = PlatformAdminKey.WriteNewSecret(path, "second");

        created.Should().BeTrue();
        again.Should().BeFalse();
        mode.Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.ReadAllText(path).Should().Be("first");
        _folder.GetFiles().Select(f => f.Name).Should().Equal("secret");
    }

    public void Dispose() => _folder.Delete(recursive: true);
}
