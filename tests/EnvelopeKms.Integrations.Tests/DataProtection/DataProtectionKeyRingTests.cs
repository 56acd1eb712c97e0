using System.Xml.Linq;
using EnvelopeKms.AspNetCore.DataProtection;
using EnvelopeKms.Auditing;
using EnvelopeKms.Envelope;
using EnvelopeKms.Storage;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.DependencyInjection;

namespace EnvelopeKms.Integrations.Tests.DataProtection;

/// <summary>
/// A real ASP.NET Core Data Protection stack (file-system key repository, key manager, protectors)
/// whose key ring is encrypted at rest with an EnvelopeKms key.
/// </summary>
public sealed class DataProtectionKeyRingTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("envelopekms-dp-").FullName;
    private readonly InMemoryKeyStore _store = new();
    private readonly InMemoryAuditSink _audit = new();
    private readonly string _rootKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private ServiceProvider Host(string keyId, Action<EnvelopeKmsXmlEncryptionOptions>? configure = null)
    {
        var services = new ServiceCollection();
        services.AddEnvelopeKms(kms => kms
            .UseKeyStore(_ => _store)
            .ProtectKeysWithRootKey(_rootKey)
            .AddAuditSink(_ => _audit));
        services.AddDataProtection()
            .SetApplicationName("envelopekms-tests")
            .PersistKeysToFileSystem(new DirectoryInfo(_directory))
            .ProtectKeysWithEnvelopeKms(keyId, configure);
        return services.BuildServiceProvider();
    }

    private static async Task<string> CreateKeyAsync(ServiceProvider host, string alias)
    {
        var kms = host.GetRequiredService<IKeyManager>();
        var key = await kms.CreateKeyAsync(new CreateKeyRequest { Description = "Data Protection key ring" }, Ct);
        await kms.CreateAliasAsync(new CreateAliasRequest { AliasName = alias, TargetKeyId = key.KeyMetadata.KeyId }, Ct);
        return key.KeyMetadata.KeyId;
    }

    [Fact]
    public async Task Protected_payloads_round_trip_and_the_key_ring_on_disk_holds_only_EnvelopeKms_ciphertext()
    {
        using var host = Host("alias/dataprotection");
        var keyId = await CreateKeyAsync(host, "alias/dataprotection");
        var protector = host.GetRequiredService<IDataProtectionProvider>().CreateProtector("orders");

        var token = protector.Protect("card on file: 4111-1111-1111-1111");

        Assert.Equal("card on file: 4111-1111-1111-1111", protector.Unprotect(token));
        var file = Assert.Single(Directory.GetFiles(_directory, "key-*.xml"));
        var xml = XDocument.Load(file);
        var text = xml.ToString();
        Assert.DoesNotContain("<masterKey", text, StringComparison.Ordinal);
        Assert.Contains("EnvelopeKmsXmlDecryptor", text, StringComparison.Ordinal);
        var envelope = xml.Descendants(XName.Get("envelope", "https://envelopekms.dev/dataprotection/2026")).Single();
        Assert.Equal("alias/dataprotection", envelope.Attribute("keyId")!.Value);
        Assert.True(Convert.FromBase64String(envelope.Value).Length > 64);

        // The key element was encrypted under the KMS key, with the default encryption context, and audited.
        var generate = _audit.Events.Single(e => e.Operation == KmsOperation.GenerateDataKey);
        Assert.Equal(keyId, generate.KeyId);
        Assert.Equal("Microsoft.AspNetCore.DataProtection key ring", generate.EncryptionContext!["purpose"]);
    }

    [Fact]
    public async Task A_second_application_instance_on_the_same_repository_and_store_reads_the_key_ring_through_KMS()
    {
        string token;
        using (var first = Host("alias/dataprotection"))
        {
            await CreateKeyAsync(first, "alias/dataprotection");
            token = first.GetRequiredService<IDataProtectionProvider>().CreateProtector("orders").Protect("shared secret");
        }

        _audit.Clear();
        using var second = Host("alias/dataprotection");
        Assert.Equal("shared secret", second.GetRequiredService<IDataProtectionProvider>().CreateProtector("orders").Unprotect(token));
        Assert.Contains(_audit.Events, e => e.Operation == KmsOperation.Decrypt && e.ErrorCode is null);
    }

    [Fact]
    public async Task With_the_KMS_key_disabled_the_key_ring_cannot_be_read_and_payloads_do_not_unprotect()
    {
        string token;
        string keyId;
        using (var first = Host("alias/dataprotection"))
        {
            keyId = await CreateKeyAsync(first, "alias/dataprotection");
            token = first.GetRequiredService<IDataProtectionProvider>().CreateProtector("orders").Protect("secret");
            await first.GetRequiredService<IKeyManager>().DisableKeyAsync(new DisableKeyRequest { KeyId = keyId }, Ct);
        }

        using var second = Host("alias/dataprotection");
        var protector = second.GetRequiredService<IDataProtectionProvider>().CreateProtector("orders");
        Assert.ThrowsAny<System.Security.Cryptography.CryptographicException>(() => protector.Unprotect(token));
        Assert.Contains(_audit.Events, e => e.Operation == KmsOperation.Decrypt && e.ErrorCode == "DisabledException");
    }

    [Fact]
    public async Task An_altered_key_element_is_refused_by_the_decryptor()
    {
        using var host = Host("alias/dataprotection");
        await CreateKeyAsync(host, "alias/dataprotection");
        var encryptor = new EnvelopeKmsXmlEncryptor(host.GetRequiredService<IEnvelopeEncryptor>(), "alias/dataprotection");
        var decryptor = new EnvelopeKmsXmlDecryptor(host);
        var element = new XElement("key", new XElement("masterKey", "c2VjcmV0"));

        var encrypted = encryptor.Encrypt(element).EncryptedElement;
        Assert.Equal(element.ToString(), decryptor.Decrypt(encrypted).ToString());

        var envelope = encrypted.Descendants().Single(e => e.Name.LocalName == "envelope");
        var bytes = Convert.FromBase64String(envelope.Value);
        bytes[^1] ^= 1;
        envelope.Value = Convert.ToBase64String(bytes);
        Assert.ThrowsAny<KmsException>(() => decryptor.Decrypt(encrypted));
        Assert.Throws<KmsInvalidCiphertextException>(() => decryptor.Decrypt(new XElement("somethingElse")));
        Assert.Throws<KmsInvalidCiphertextException>(() => decryptor.Decrypt(new XElement(XName.Get("encryptedKey", "https://envelopekms.dev/dataprotection/2026"),
            new XElement(XName.Get("envelope", "https://envelopekms.dev/dataprotection/2026"), "not base64!"))));
    }

    [Fact]
    public async Task An_envelope_made_for_another_purpose_under_the_same_key_is_not_accepted_as_a_key_element()
    {
        using var host = Host("alias/dataprotection");
        await CreateKeyAsync(host, "alias/dataprotection");
        var envelopes = host.GetRequiredService<IEnvelopeEncryptor>();
        var foreign = await envelopes.EncryptAsync("alias/dataprotection", "<key><masterKey>AAAA</masterKey></key>"u8.ToArray(), EnvelopeKmsXmlEncryptionOptions.DefaultEncryptionContext, cancellationToken: Ct);
        var element = new XElement(XName.Get("encryptedKey", "https://envelopekms.dev/dataprotection/2026"),
            new XElement(XName.Get("envelope", "https://envelopekms.dev/dataprotection/2026"), Convert.ToBase64String(foreign)));

        Assert.ThrowsAny<KmsException>(() => new EnvelopeKmsXmlDecryptor(host).Decrypt(element));
    }

    [Fact]
    public async Task A_custom_encryption_context_is_used_and_audited()
    {
        using var host = Host("alias/dataprotection", o => o.EncryptionContext = new Dictionary<string, string> { ["app"] = "billing", ["env"] = "prod" });
        await CreateKeyAsync(host, "alias/dataprotection");
        host.GetRequiredService<IDataProtectionProvider>().CreateProtector("p").Protect("x");

        var generate = _audit.Events.Single(e => e.Operation == KmsOperation.GenerateDataKey);
        Assert.Equal("billing", generate.EncryptionContext!["app"]);
        Assert.Equal("prod", generate.EncryptionContext!["env"]);
    }

    [Fact]
    public void Bad_arguments_are_refused_when_the_stack_is_configured()
    {
        var builder = new ServiceCollection().AddDataProtection();
        Assert.Throws<ArgumentException>(() => builder.ProtectKeysWithEnvelopeKms(""));
        Assert.Throws<ArgumentException>(() => builder.ProtectKeysWithEnvelopeKms("alias/with space"));
        Assert.Throws<ArgumentNullException>(() => builder.ProtectKeysWithEnvelopeKms(null!));
        Assert.Throws<ArgumentException>(() => builder.ProtectKeysWithEnvelopeKms("alias/x", o => o.EncryptionContext = new Dictionary<string, string> { [""] = "v" }));
        Assert.Throws<InvalidOperationException>(() => new EnvelopeKmsXmlDecryptor(new ServiceCollection().BuildServiceProvider()));
    }

    [Fact]
    public async Task Every_key_ring_key_is_encrypted_with_KMS_and_a_fresh_key_manager_decrypts_each_descriptor()
    {
        using (var host = Host("alias/dataprotection"))
        {
            await CreateKeyAsync(host, "alias/dataprotection");
            var keyRing = host.GetRequiredService<Microsoft.AspNetCore.DataProtection.KeyManagement.IKeyManager>();
            keyRing.CreateNewKey(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(90));
            keyRing.CreateNewKey(DateTimeOffset.UtcNow.AddDays(80), DateTimeOffset.UtcNow.AddDays(170));
        }

        var files = Directory.GetFiles(_directory, "key-*.xml");
        Assert.Equal(2, files.Length);
        Assert.All(files, f => Assert.DoesNotContain("<masterKey", File.ReadAllText(f), StringComparison.Ordinal));

        _audit.Clear();
        using var fresh = Host("alias/dataprotection");
        var keys = fresh.GetRequiredService<Microsoft.AspNetCore.DataProtection.KeyManagement.IKeyManager>().GetAllKeys();
        Assert.Equal(2, keys.Count);
        Assert.All(keys, k => Assert.NotNull(k.Descriptor));
        Assert.Contains(_audit.Events, e => e.Operation == KmsOperation.Decrypt && e.ErrorCode is null);
    }
}
