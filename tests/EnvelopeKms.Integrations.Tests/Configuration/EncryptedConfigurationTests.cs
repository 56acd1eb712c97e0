using EnvelopeKms.Auditing;
using EnvelopeKms.Extensions.Configuration;
using Microsoft.Extensions.Configuration;

namespace EnvelopeKms.Integrations.Tests.Configuration;

/// <summary>
/// appsettings.json holding EnvelopeKms ciphertext, read through the configuration provider: the
/// application sees plaintext, values are bound to their configuration key, and failures name the
/// setting, never its value.
/// </summary>
public sealed class EncryptedConfigurationTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("envelopekms-config-").FullName;
    private readonly InMemoryAuditSink _audit = new();
    private readonly KeyManager _kms;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public EncryptedConfigurationTests()
    {
        _kms = TestKeyManagers.InMemory(_audit);
    }

    public void Dispose()
    {
        _kms.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private async Task<string> KeyAsync(string alias = "alias/config")
    {
        var key = await _kms.CreateKeyAsync(new CreateKeyRequest(), Ct);
        await _kms.CreateAliasAsync(new CreateAliasRequest { AliasName = alias, TargetKeyId = key.KeyMetadata.KeyId }, Ct);
        return key.KeyMetadata.KeyId;
    }

    private string WriteSettings(string json)
    {
        var path = Path.Combine(_directory, "appsettings.json");
        File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public async Task Encrypted_values_in_appsettings_json_read_as_plaintext_and_other_values_pass_through()
    {
        await KeyAsync();
        var connection = await EnvelopeKmsConfigurationValues.EncryptAsync(_kms, "alias/config", "ConnectionStrings:Orders", "Host=db;Password=hunter2", Ct);
        var apiKey = await EnvelopeKmsConfigurationValues.EncryptAsync(_kms, "alias/config", "Payments:ApiKey", "sk_live_ünïcödé", Ct);
        Assert.StartsWith("ENC[EnvelopeKms,v1,", connection, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", connection, StringComparison.Ordinal);
        var path = WriteSettings($$"""
            {
              "ConnectionStrings": { "Orders": "{{connection}}" },
              "Payments": { "ApiKey": "{{apiKey}}", "Endpoint": "https://pay.example.com" },
              "Plain": "not a secret"
            }
            """);

        var configuration = new ConfigurationBuilder().AddJsonFile(path).AddEnvelopeKmsDecryption(_kms).Build();

        Assert.Equal("Host=db;Password=hunter2", configuration.GetConnectionString("Orders"));
        Assert.Equal("sk_live_ünïcödé", configuration["payments:apikey"]);
        Assert.Equal("https://pay.example.com", configuration["Payments:Endpoint"]);
        Assert.Equal("not a secret", configuration["Plain"]);
        Assert.Equal(2, _audit.Events.Count(e => e.Operation == KmsOperation.Decrypt && e.ErrorCode is null));
        Assert.Contains(_audit.Events, e => e.Operation == KmsOperation.Decrypt && e.EncryptionContext![EnvelopeKmsConfigurationValues.ContextKey] == "connectionstrings:orders");
    }

    [Fact]
    public async Task A_value_moved_to_another_setting_fails_naming_the_setting_and_never_the_value()
    {
        await KeyAsync();
        var secret = await EnvelopeKmsConfigurationValues.EncryptAsync(_kms, "alias/config", "Database:Password", "hunter2", Ct);
        var path = WriteSettings($$"""{ "Logging": { "Password": "{{secret}}" } }""");

        var e = Assert.Throws<EnvelopeKmsConfigurationException>(() => new ConfigurationBuilder().AddJsonFile(path).AddEnvelopeKmsDecryption(_kms).Build());

        Assert.Equal("Logging:Password", e.ConfigurationKey);
        Assert.Equal("InvalidCiphertextException", e.ErrorCode);
        Assert.Contains("Logging:Password", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", e.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(secret[20..60], e.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_a_required_key_a_value_under_another_key_is_refused()
    {
        await KeyAsync("alias/config");
        await KeyAsync("alias/other");
        var secret = await EnvelopeKmsConfigurationValues.EncryptAsync(_kms, "alias/other", "Api:Key", "k", Ct);
        var path = WriteSettings($$"""{ "Api": { "Key": "{{secret}}" } }""");

        var e = Assert.Throws<EnvelopeKmsConfigurationException>(() => new ConfigurationBuilder().AddJsonFile(path).AddEnvelopeKmsDecryption(_kms, o => o.KeyId = "alias/config").Build());
        Assert.Equal("IncorrectKeyException", e.ErrorCode);

        Assert.Equal("k", new ConfigurationBuilder().AddJsonFile(path).AddEnvelopeKmsDecryption(_kms, o => o.KeyId = "alias/other").Build()["Api:Key"]);
    }

    [Fact]
    public async Task A_malformed_or_altered_value_and_a_disabled_key_fail_with_their_KMS_error_codes()
    {
        var keyId = await KeyAsync();
        var secret = await EnvelopeKmsConfigurationValues.EncryptAsync(_kms, "alias/config", "A", "v", Ct);
        var blob = Convert.FromBase64String(secret["ENC[EnvelopeKms,v1,".Length..^1]);
        blob[^1] ^= 1;
        string Build(string value) => new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["A"] = value }).AddEnvelopeKmsDecryption(_kms).Build()["A"]!;

        Assert.Equal("InvalidCiphertextException", Assert.Throws<EnvelopeKmsConfigurationException>(() => Build("ENC[EnvelopeKms,v1,not base64!]")).ErrorCode);
        Assert.Equal("InvalidCiphertextException", Assert.Throws<EnvelopeKmsConfigurationException>(() => Build("ENC[EnvelopeKms,v1,AAAA")).ErrorCode);
        Assert.Equal("InvalidCiphertextException", Assert.Throws<EnvelopeKmsConfigurationException>(() => Build($"ENC[EnvelopeKms,v1,{Convert.ToBase64String(blob)}]")).ErrorCode);
        Assert.Equal("v", Build(secret));

        await _kms.DisableKeyAsync(new DisableKeyRequest { KeyId = keyId }, Ct);
        Assert.Equal("DisabledException", Assert.Throws<EnvelopeKmsConfigurationException>(() => Build(secret)).ErrorCode);
    }

    [Fact]
    public async Task A_reloaded_file_is_decrypted_again()
    {
        await KeyAsync();
        var path = WriteSettings($$"""{ "S": "{{await EnvelopeKmsConfigurationValues.EncryptAsync(_kms, "alias/config", "S", "first", Ct)}}" }""");
        var configuration = new ConfigurationBuilder().AddJsonFile(path, optional: false, reloadOnChange: false).AddEnvelopeKmsDecryption(_kms).Build();
        Assert.Equal("first", configuration["S"]);

        File.WriteAllText(path, $$"""{ "S": "{{await EnvelopeKmsConfigurationValues.EncryptAsync(_kms, "alias/config", "S", "second", Ct)}}" }""");
        configuration.Reload();

        Assert.Equal("second", configuration["S"]);
    }

    [Fact]
    public async Task The_key_manager_can_be_made_from_the_earlier_sources_and_only_when_a_value_is_encrypted()
    {
        await KeyAsync();
        var secret = await EnvelopeKmsConfigurationValues.EncryptAsync(_kms, "alias/config", "S", "from factory", Ct);
        var calls = 0;
        IKeyManager Factory(IConfiguration earlier)
        {
            calls++;
            Assert.Equal("sqlite-or-whatever", earlier["EnvelopeKms:Store"]);
            return _kms;
        }

        var plain = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["EnvelopeKms:Store"] = "sqlite-or-whatever" }).AddEnvelopeKmsDecryption(Factory).Build();
        Assert.Equal(0, calls);
        var encrypted = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["EnvelopeKms:Store"] = "sqlite-or-whatever", ["S"] = secret }).AddEnvelopeKmsDecryption(Factory).Build();
        Assert.Equal("from factory", encrypted["S"]);
        Assert.Equal(1, calls);
        Assert.NotNull(plain);
    }

    [Fact]
    public async Task Producing_a_value_checks_its_inputs_before_calling_KMS()
    {
        await KeyAsync();
        _audit.Clear();
        await Assert.ThrowsAsync<KmsValidationException>(() => EnvelopeKmsConfigurationValues.EncryptAsync(_kms, "alias/config", "", "v", Ct));
        await Assert.ThrowsAsync<KmsValidationException>(() => EnvelopeKmsConfigurationValues.EncryptAsync(_kms, "alias/config", "K", "", Ct));
        await Assert.ThrowsAsync<KmsValidationException>(() => EnvelopeKmsConfigurationValues.EncryptAsync(_kms, "alias/config", "K", new string('x', 4097), Ct));
        Assert.Empty(_audit.Events);
        Assert.False(EnvelopeKmsConfigurationValues.IsEncrypted("ENC[EnvelopeKms,v1,]"));
        Assert.True(EnvelopeKmsConfigurationValues.IsEncrypted("ENC[EnvelopeKms,v1,AA==]"));
    }

    [Fact]
    public async Task A_source_that_reloads_on_its_own_is_decrypted_again_and_the_change_reaches_the_application()
    {
        await KeyAsync();
        var source = new ChangingSource();
        source.Provider.Set("S", await EnvelopeKmsConfigurationValues.EncryptAsync(_kms, "alias/config", "S", "before", Ct));
        var configuration = new ConfigurationBuilder().Add(source).AddEnvelopeKmsDecryption(_kms).Build();
        Assert.Equal("before", configuration["S"]);
        var changes = 0;
        Microsoft.Extensions.Primitives.ChangeToken.OnChange(configuration.GetReloadToken, () => changes++);

        source.Provider.Set("S", await EnvelopeKmsConfigurationValues.EncryptAsync(_kms, "alias/config", "S", "after", Ct));
        source.Provider.RaiseChanged();

        Assert.Equal("after", configuration["S"]);
        Assert.True(changes >= 1);
    }

    /// <summary>A source whose single provider instance changes its data and raises its reload token, like a watched file.</summary>
    private sealed class ChangingSource : IConfigurationSource
    {
        public ChangingProvider Provider { get; } = new();

        public IConfigurationProvider Build(IConfigurationBuilder builder) => Provider;
    }

    private sealed class ChangingProvider : ConfigurationProvider
    {
        public new void Set(string key, string? value) => Data[key] = value;

        public void RaiseChanged() => OnReload();
    }
}
