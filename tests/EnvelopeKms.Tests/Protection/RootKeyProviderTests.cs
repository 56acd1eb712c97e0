using System.Security.Cryptography;
using System.Text.Json.Nodes;
using EnvelopeKms.Protection;
using EnvelopeKms.Storage;
using EnvelopeKms.Tests.Infrastructure;
using EnvelopeKms.Tests.Storage;

namespace EnvelopeKms.Tests.Protection;

/// <summary>The root-key providers: static (bytes, base64, environment), passphrase and development file.</summary>
public sealed class RootKeyProviderTests : IDisposable
{
    private readonly TemporaryStoreDirectory _directory = new("rootkey");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _directory.Dispose();

    // ------------------------------------------------------------------ static

    [Theory]
    [InlineData(0)]
    [InlineData(16)]
    [InlineData(31)]
    [InlineData(33)]
    [InlineData(64)]
    public void A_static_root_key_of_the_wrong_length_is_rejected_naming_both_lengths(int length)
    {
        var error = Assert.Throws<KmsRootKeyException>(() => new StaticRootKeyProvider(new byte[length]));

        Assert.Equal(KmsErrorCodes.RootKey, error.ErrorCode);
        Assert.Contains("32 bytes", error.Message, StringComparison.Ordinal);
        Assert.Contains($"has {length} bytes", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void A_missing_base64_root_key_says_where_it_was_looked_for(string? value)
    {
        var error = Assert.Throws<KmsRootKeyException>(() => StaticRootKeyProvider.FromBase64(value, "the test setting"));

        Assert.Contains("No root key was found in the test setting", error.Message, StringComparison.Ordinal);
        Assert.Contains("openssl rand -base64 32", error.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string> MalformedBase64Keys => new()
    {
        "not base64 at all!",
        "c2VjcmV0LXJvb3Qta2V5LXRoYXQtaXMtbm90LWJhc2U2NA=!",
        Convert.ToBase64String(new byte[16]),
        Convert.ToBase64String(Enumerable.Range(1, 31).Select(i => (byte)i).ToArray()),
        Convert.ToBase64String(Enumerable.Range(1, 33).Select(i => (byte)i).ToArray()),
        Convert.ToBase64String(Enumerable.Range(1, 48).Select(i => (byte)i).ToArray()),
        Convert.ToBase64String(Enumerable.Range(1, 200).Select(i => (byte)i).ToArray()),
        Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray())[..40],
        Convert.ToHexString(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray()),
    };

    [Theory]
    [MemberData(nameof(MalformedBase64Keys))]
    public void A_malformed_base64_root_key_is_rejected_without_echoing_the_value(string value)
    {
        var error = Assert.Throws<KmsRootKeyException>(() => StaticRootKeyProvider.FromBase64(value, "the test setting"));

        Assert.Contains("the test setting must be 32 bytes, base64 encoded", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(value.Trim(), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_base64_root_key_with_surrounding_whitespace_is_the_same_key_as_the_bytes()
    {
        var bytes = RandomNumberGenerator.GetBytes(32);
        using var fromBytes = new StaticRootKeyProvider(bytes);
        using var fromBase64 = StaticRootKeyProvider.FromBase64($"  {Convert.ToBase64String(bytes)}\n");
        using var other = new StaticRootKeyProvider(RandomNumberGenerator.GetBytes(32));

        using var a = await fromBytes.GetRootKeyAsync(null, Ct);
        using var b = await fromBase64.GetRootKeyAsync(null, Ct);
        using var c = await other.GetRootKeyAsync(null, Ct);

        Assert.Equal(a.KeyCheckValue, b.KeyCheckValue);
        Assert.NotEqual(a.KeyCheckValue, c.KeyCheckValue);
        Assert.Null(a.Parameters);
        Assert.DoesNotContain(Convert.ToHexStringLower(bytes)[..8], a.KeyCheckValue, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_static_provider_copies_the_key_so_later_changes_to_the_callers_buffer_do_not_matter()
    {
        var bytes = RandomNumberGenerator.GetBytes(32);
        using var provider = new StaticRootKeyProvider(bytes);
        using var before = await new StaticRootKeyProvider(bytes).GetRootKeyAsync(null, Ct);

        Array.Clear(bytes);
        using var after = await provider.GetRootKeyAsync(null, Ct);

        Assert.Equal(before.KeyCheckValue, after.KeyCheckValue);
    }

    [Fact]
    public void A_root_key_environment_variable_that_is_not_set_is_a_clear_error_naming_the_variable()
    {
        using var variable = new EnvironmentVariable(null);

        var error = Assert.Throws<KmsRootKeyException>(() => StaticRootKeyProvider.FromEnvironment(variable.Name));

        Assert.Contains($"the environment variable '{variable.Name}'", error.Message, StringComparison.Ordinal);
        Assert.Contains("No root key was found", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_malformed_root_key_environment_variable_is_a_clear_error_without_the_value()
    {
        var value = Convert.ToBase64String(RandomNumberGenerator.GetBytes(24));
        using var variable = new EnvironmentVariable(value);

        var error = Assert.Throws<KmsRootKeyException>(() => StaticRootKeyProvider.FromEnvironment(variable.Name));

        Assert.Contains($"the environment variable '{variable.Name}' must be 32 bytes", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(value, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_root_key_from_an_environment_variable_opens_the_store_it_created()
    {
        var bytes = RandomNumberGenerator.GetBytes(32);
        using var variable = new EnvironmentVariable(Convert.ToBase64String(bytes));
        byte[] blob;
        using (var kms = new TestKeyManager(new FileSystemKeyStore(_directory.Path), StaticRootKeyProvider.FromEnvironment(variable.Name)))
        {
            var key = await kms.Manager.CreateKeyAsync("env", Ct);
            blob = await kms.Manager.EncryptAsync(key.KeyId, "from the environment"u8.ToArray(), cancellationToken: Ct);
        }

        using (var kms = new TestKeyManager(new FileSystemKeyStore(_directory.Path), new StaticRootKeyProvider(bytes)))
        {
            Assert.Equal("from the environment"u8.ToArray(), await kms.Manager.DecryptAsync(blob, cancellationToken: Ct));
        }
    }

    [Fact]
    public void The_environment_variable_name_is_required()
    {
        Assert.ThrowsAny<ArgumentException>(() => StaticRootKeyProvider.FromEnvironment(""));
        Assert.ThrowsAny<ArgumentException>(() => StaticRootKeyProvider.FromEnvironment(null!));
    }

    // ------------------------------------------------------------------ passphrase

    [Theory]
    [InlineData("")]
    [InlineData("short")]
    [InlineData("elevenchars")]
    public void A_passphrase_shorter_than_12_characters_is_rejected(string passphrase)
    {
        var error = Assert.Throws<KmsRootKeyException>(() => new PassphraseRootKeyProvider(passphrase, PassphraseRootKeyProvider.MinimumIterations));
        Assert.Contains("at least 12 characters", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_iteration_count_below_the_minimum_is_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new PassphraseRootKeyProvider("twelve chars", PassphraseRootKeyProvider.MinimumIterations - 1));
        Assert.Throws<ArgumentNullException>(() => new PassphraseRootKeyProvider(null!));
        _ = new PassphraseRootKeyProvider("twelve chars", PassphraseRootKeyProvider.MinimumIterations);
    }

    [Fact]
    public async Task The_same_passphrase_reopens_a_file_store_and_the_salt_and_cost_are_recorded_in_store_json()
    {
        const string passphrase = "correct horse battery staple";
        string keyId;
        byte[] blob;
        using (var kms = new TestKeyManager(new FileSystemKeyStore(_directory.Path), new PassphraseRootKeyProvider(passphrase, PassphraseRootKeyProvider.MinimumIterations)))
        {
            keyId = (await kms.Manager.CreateKeyAsync("passphrase", Ct)).KeyId;
            blob = await kms.Manager.EncryptAsync(keyId, "protected by a passphrase"u8.ToArray(), cancellationToken: Ct);
        }

        var parameters = ReadRootKeyParameters();
        var parts = parameters.Split(';');
        Assert.Equal(3, parts.Length);
        Assert.Equal("pbkdf2-sha256", parts[0]);
        Assert.Equal($"i={PassphraseRootKeyProvider.MinimumIterations}", parts[1]);
        Assert.StartsWith("s=", parts[2], StringComparison.Ordinal);
        var salt = Convert.FromBase64String(parts[2][2..]);
        Assert.Equal(32, salt.Length);
        Assert.DoesNotContain(passphrase, await File.ReadAllTextAsync(Path.Combine(_directory.Path, "store.json"), Ct), StringComparison.Ordinal);

        // The recorded cost wins over the one given to a later provider.
        using (var kms = new TestKeyManager(new FileSystemKeyStore(_directory.Path), new PassphraseRootKeyProvider(passphrase, PassphraseRootKeyProvider.DefaultIterations)))
        {
            Assert.Equal("protected by a passphrase"u8.ToArray(), await kms.Manager.DecryptAsync(blob, cancellationToken: Ct));
            await kms.Manager.EncryptAsync(keyId, "still usable"u8.ToArray(), cancellationToken: Ct);
        }

        Assert.Equal(parameters, ReadRootKeyParameters());
    }

    [Fact]
    public async Task Two_stores_with_the_same_passphrase_get_different_salts_and_different_root_keys()
    {
        const string passphrase = "the same passphrase twice";
        var provider = new PassphraseRootKeyProvider(passphrase, PassphraseRootKeyProvider.MinimumIterations);

        using var first = await provider.GetRootKeyAsync(null, Ct);
        using var second = await provider.GetRootKeyAsync(null, Ct);
        using var reopened = await provider.GetRootKeyAsync(first.Parameters, Ct);

        Assert.NotEqual(first.Parameters, second.Parameters);
        Assert.NotEqual(first.KeyCheckValue, second.KeyCheckValue);
        Assert.Equal(first.KeyCheckValue, reopened.KeyCheckValue);
        Assert.Equal(first.Parameters, reopened.Parameters);
    }

    [Fact]
    public async Task A_different_passphrase_is_a_root_key_error_and_changes_nothing_on_disk()
    {
        byte[] blob;
        using (var kms = new TestKeyManager(new FileSystemKeyStore(_directory.Path), new PassphraseRootKeyProvider("the right passphrase", PassphraseRootKeyProvider.MinimumIterations)))
        {
            var key = await kms.Manager.CreateKeyAsync("passphrase", Ct);
            blob = await kms.Manager.EncryptAsync(key.KeyId, "secret"u8.ToArray(), cancellationToken: Ct);
        }

        var before = StoreFiles.Snapshot(_directory.Path);
        using (var kms = new TestKeyManager(new FileSystemKeyStore(_directory.Path), new PassphraseRootKeyProvider("the wrong passphrase", PassphraseRootKeyProvider.MinimumIterations)))
        {
            var error = await Assert.ThrowsAsync<KmsRootKeyException>(() => kms.Manager.DecryptAsync(blob, cancellationToken: Ct));
            Assert.Contains("not the one this key store was created with", error.Message, StringComparison.Ordinal);
            await Assert.ThrowsAsync<KmsRootKeyException>(() => kms.Manager.CreateKeyAsync("another", Ct));
        }

        Assert.Equal(before, StoreFiles.Snapshot(_directory.Path));
    }

    [Theory]
    [InlineData("")]
    [InlineData("pbkdf2-sha256")]
    [InlineData("scrypt;i=100000;s=AAAAAAAAAAAAAAAAAAAAAA==")]
    [InlineData("pbkdf2-sha256;i=1000;s=AAAAAAAAAAAAAAAAAAAAAA==")]
    [InlineData("pbkdf2-sha256;i=100000;s=AAAA")]
    [InlineData("pbkdf2-sha256;i=100000;s=not base64")]
    [InlineData("pbkdf2-sha256;i=-100000;s=AAAAAAAAAAAAAAAAAAAAAA==")]
    public async Task Malformed_recorded_passphrase_parameters_are_a_root_key_error(string parameters)
    {
        var provider = new PassphraseRootKeyProvider("twelve chars", PassphraseRootKeyProvider.MinimumIterations);
        var error = await Assert.ThrowsAsync<KmsRootKeyException>(async () => await provider.GetRootKeyAsync(parameters, Ct));
        Assert.Contains("not created with a passphrase root key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_passphrase_against_a_store_created_with_a_static_key_is_a_root_key_error_and_changes_nothing()
    {
        using (var kms = new TestKeyManager(new FileSystemKeyStore(_directory.Path), new StaticRootKeyProvider(RandomNumberGenerator.GetBytes(32))))
        {
            await kms.Manager.CreateKeyAsync("static", Ct);
        }

        var before = StoreFiles.Snapshot(_directory.Path);
        using (var kms = new TestKeyManager(new FileSystemKeyStore(_directory.Path), new PassphraseRootKeyProvider("a passphrase of some length", PassphraseRootKeyProvider.MinimumIterations)))
        {
            await Assert.ThrowsAsync<KmsRootKeyException>(() => kms.Manager.CreateKeyAsync("passphrase", Ct));
        }

        Assert.Equal(before, StoreFiles.Snapshot(_directory.Path));
    }

    // ------------------------------------------------------------------ development key file

    [Fact]
    public async Task The_development_root_key_file_is_created_with_owner_only_permissions_and_reused()
    {
        var path = Path.Combine(_directory.Parent, "dev", "root.key");
        var first = new DevelopmentRootKeyProvider(path);

        using var created = await first.GetRootKeyAsync(null, Ct);

        Assert.True(first.Created);
        Assert.Equal(Path.GetFullPath(path), first.Path);
        var content = (await File.ReadAllTextAsync(path, Ct)).Trim();
        Assert.Equal(32, Convert.FromBase64String(content).Length);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }

        var second = new DevelopmentRootKeyProvider(path);
        using var reused = await second.GetRootKeyAsync(created.Parameters, Ct);
        Assert.False(second.Created);
        Assert.Equal(created.KeyCheckValue, reused.KeyCheckValue);
        Assert.Equal(content, (await File.ReadAllTextAsync(path, Ct)).Trim());
    }

    [Fact]
    public async Task A_development_root_key_reopens_its_file_store()
    {
        var path = Path.Combine(_directory.Parent, "root.key");
        byte[] blob;
        using (var kms = new TestKeyManager(new FileSystemKeyStore(_directory.Path), new DevelopmentRootKeyProvider(path)))
        {
            var key = await kms.Manager.CreateKeyAsync("dev", Ct);
            blob = await kms.Manager.EncryptAsync(key.KeyId, "dev secret"u8.ToArray(), cancellationToken: Ct);
        }

        var provider = new DevelopmentRootKeyProvider(path);
        using (var kms = new TestKeyManager(new FileSystemKeyStore(_directory.Path), provider))
        {
            Assert.Equal("dev secret"u8.ToArray(), await kms.Manager.DecryptAsync(blob, cancellationToken: Ct));
        }

        Assert.False(provider.Created);
    }

    [Fact]
    public async Task A_missing_development_root_key_file_with_an_existing_store_is_a_root_key_error_and_is_not_recreated()
    {
        var path = Path.Combine(_directory.Parent, "root.key");
        using (var kms = new TestKeyManager(new FileSystemKeyStore(_directory.Path), new DevelopmentRootKeyProvider(path)))
        {
            await kms.Manager.CreateKeyAsync("dev", Ct);
        }

        File.Delete(path);
        var before = StoreFiles.Snapshot(_directory.Path);
        var provider = new DevelopmentRootKeyProvider(path);
        using (var kms = new TestKeyManager(new FileSystemKeyStore(_directory.Path), provider))
        {
            var error = await Assert.ThrowsAsync<KmsRootKeyException>(() => kms.Manager.CreateKeyAsync("after", Ct));
            Assert.Contains("is missing but the key store already exists", error.Message, StringComparison.Ordinal);
        }

        Assert.False(File.Exists(path), "A new development root key was created for an existing store.");
        Assert.False(provider.Created);
        Assert.Equal(before, StoreFiles.Snapshot(_directory.Path));
    }

    [Theory]
    [InlineData("")]
    [InlineData("not base64")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAA==")]
    public async Task A_malformed_development_root_key_file_is_a_root_key_error_and_is_left_alone(string content)
    {
        var path = Path.Combine(_directory.Parent, "root.key");
        await File.WriteAllTextAsync(path, content, Ct);

        var error = await Assert.ThrowsAsync<KmsRootKeyException>(async () => await new DevelopmentRootKeyProvider(path).GetRootKeyAsync(null, Ct));

        Assert.Contains("must hold 32 bytes, base64 encoded", error.Message, StringComparison.Ordinal);
        Assert.Equal(content, await File.ReadAllTextAsync(path, Ct));
    }

    private string ReadRootKeyParameters()
    {
        var document = JsonNode.Parse(File.ReadAllText(Path.Combine(_directory.Path, "store.json")))!;
        return document["metadata"]!["rootKeyParameters"]!.GetValue<string>();
    }
}

/// <summary>An environment variable with a unique name for one test, removed on dispose.</summary>
internal sealed class EnvironmentVariable : IDisposable
{
    public EnvironmentVariable(string? value)
    {
        Name = $"ENVELOPEKMS_TEST_ROOT_KEY_{Guid.NewGuid():N}";
        Environment.SetEnvironmentVariable(Name, value);
    }

    public string Name { get; }

    public void Dispose() => Environment.SetEnvironmentVariable(Name, null);
}
