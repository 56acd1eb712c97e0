using EnvelopeKms.Cryptography;
using EnvelopeKms.Envelope;
using EnvelopeKms.KeyManagement;
using EnvelopeKms.Protection;
using EnvelopeKms.Storage;
using EnvelopeKms.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EnvelopeKms.Tests.KeyManagement;

/// <summary>
/// <see cref="EnvelopeKmsOptions.FipsApprovedAlgorithmsOnly"/>: the table of where each spec and algorithm
/// runs (<see cref="CryptoProvenance"/>, shown in docs/design.md "FIPS mode"), key creation and use
/// refused for the specs it excludes, and the envelope encryptor kept on the platform's AES-GCM.
/// </summary>
public sealed class FipsModeTests
{
    private const string Allowed = "allowed";
    private const string BouncyCastle = "BouncyCastle";
    private const string NotApproved = "not FIPS-approved";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly EnvelopeKmsOptions Fips = new() { FipsApprovedAlgorithmsOnly = true };

    /// <summary>The documented table: every key spec, its usage for the test, and the verdict under the option.</summary>
    public static TheoryData<string, string, string> SpecTable => new()
    {
        { nameof(KeySpec.SymmetricDefault), nameof(KeyUsage.EncryptDecrypt), Allowed },
        { nameof(KeySpec.Hmac224), nameof(KeyUsage.GenerateVerifyMac), BouncyCastle },
        { nameof(KeySpec.Hmac256), nameof(KeyUsage.GenerateVerifyMac), Allowed },
        { nameof(KeySpec.Hmac384), nameof(KeyUsage.GenerateVerifyMac), Allowed },
        { nameof(KeySpec.Hmac512), nameof(KeyUsage.GenerateVerifyMac), Allowed },
        { nameof(KeySpec.Rsa2048), nameof(KeyUsage.SignVerify), Allowed },
        { nameof(KeySpec.Rsa3072), nameof(KeyUsage.EncryptDecrypt), Allowed },
        { nameof(KeySpec.Rsa4096), nameof(KeyUsage.SignVerify), Allowed },
        { nameof(KeySpec.EccNistP256), nameof(KeyUsage.SignVerify), Allowed },
        { nameof(KeySpec.EccNistP384), nameof(KeyUsage.KeyAgreement), Allowed },
        { nameof(KeySpec.EccNistP521), nameof(KeyUsage.SignVerify), Allowed },
        { nameof(KeySpec.EccSecgP256k1), nameof(KeyUsage.SignVerify), NotApproved },
        { nameof(KeySpec.EccNistEdwards25519), nameof(KeyUsage.SignVerify), BouncyCastle },
        { nameof(KeySpec.MlDsa44), nameof(KeyUsage.SignVerify), BouncyCastle },
        { nameof(KeySpec.MlDsa65), nameof(KeyUsage.SignVerify), BouncyCastle },
        { nameof(KeySpec.MlDsa87), nameof(KeyUsage.SignVerify), BouncyCastle },
        { nameof(KeySpec.MlKem512), nameof(KeyUsage.EncapsulateDecapsulate), BouncyCastle },
        { nameof(KeySpec.MlKem768), nameof(KeyUsage.EncapsulateDecapsulate), BouncyCastle },
        { nameof(KeySpec.MlKem1024), nameof(KeyUsage.EncapsulateDecapsulate), BouncyCastle },
    };

    /// <summary>Every signing algorithm and its verdict (the curve of ECDSA is the key spec's, checked there).</summary>
    public static TheoryData<string, string> SigningTable => new()
    {
        { nameof(SigningAlgorithm.RsassaPssSha256), Allowed },
        { nameof(SigningAlgorithm.RsassaPssSha384), Allowed },
        { nameof(SigningAlgorithm.RsassaPssSha512), Allowed },
        { nameof(SigningAlgorithm.RsassaPkcs1V15Sha256), Allowed },
        { nameof(SigningAlgorithm.RsassaPkcs1V15Sha384), Allowed },
        { nameof(SigningAlgorithm.RsassaPkcs1V15Sha512), Allowed },
        { nameof(SigningAlgorithm.EcdsaSha256), Allowed },
        { nameof(SigningAlgorithm.EcdsaSha384), Allowed },
        { nameof(SigningAlgorithm.EcdsaSha512), Allowed },
        { nameof(SigningAlgorithm.Ed25519Sha512), BouncyCastle },
        { nameof(SigningAlgorithm.Ed25519PhSha512), BouncyCastle },
        { nameof(SigningAlgorithm.MlDsaShake256), BouncyCastle },
    };

    public static TheoryData<string, string> MacTable => new()
    {
        { nameof(MacAlgorithm.HmacSha224), BouncyCastle },
        { nameof(MacAlgorithm.HmacSha256), Allowed },
        { nameof(MacAlgorithm.HmacSha384), Allowed },
        { nameof(MacAlgorithm.HmacSha512), Allowed },
    };

    public static TheoryData<string, string> EncryptionTable => new()
    {
        { nameof(EncryptionAlgorithm.SymmetricDefault), Allowed },
        { nameof(EncryptionAlgorithm.RsaesOaepSha1), Allowed },
        { nameof(EncryptionAlgorithm.RsaesOaepSha256), Allowed },
    };

    private static string Verdict(AlgorithmProvenance provenance)
        => provenance.AllowedInFipsMode ? Allowed
        : !provenance.FipsApproved ? NotApproved
        : provenance.Provider == CryptoProvider.BouncyCastle ? BouncyCastle
        : "unavailable";

    [Theory]
    [MemberData(nameof(SpecTable))]
    public void The_provenance_table_gives_each_key_spec_its_documented_verdict(string spec, string usage, string expected)
    {
        _ = usage;
        Assert.Equal(expected, Verdict(CryptoProvenance.Of(Enum.Parse<KeySpec>(spec))));
    }

    [Theory]
    [MemberData(nameof(SigningTable))]
    public void The_provenance_table_gives_each_signing_algorithm_its_documented_verdict(string algorithm, string expected)
        => Assert.Equal(expected, Verdict(CryptoProvenance.Of(Enum.Parse<SigningAlgorithm>(algorithm))));

    [Theory]
    [MemberData(nameof(MacTable))]
    public void The_provenance_table_gives_each_mac_algorithm_its_documented_verdict(string algorithm, string expected)
        => Assert.Equal(expected, Verdict(CryptoProvenance.Of(Enum.Parse<MacAlgorithm>(algorithm))));

    [Theory]
    [MemberData(nameof(EncryptionTable))]
    public void The_provenance_table_gives_each_encryption_algorithm_its_documented_verdict(string algorithm, string expected)
        => Assert.Equal(expected, Verdict(CryptoProvenance.Of(Enum.Parse<EncryptionAlgorithm>(algorithm))));

    [Fact]
    public void Ecdh_is_allowed_and_runs_on_the_platform()
        => Assert.Equal(Allowed, Verdict(CryptoProvenance.Of(KeyAgreementAlgorithm.Ecdh)));

    [Fact]
    public void The_tables_cover_every_key_spec_and_algorithm()
    {
        Assert.Equal(Enum.GetNames<KeySpec>().Order(), SpecTable.Select(row => (string)row.Data.Item1).Order());
        Assert.Equal(Enum.GetNames<SigningAlgorithm>().Order(), SigningTable.Select(row => (string)row.Data.Item1).Order());
        Assert.Equal(Enum.GetNames<MacAlgorithm>().Order(), MacTable.Select(row => (string)row.Data.Item1).Order());
        Assert.Equal(Enum.GetNames<EncryptionAlgorithm>().Order(), EncryptionTable.Select(row => (string)row.Data.Item1).Order());
        foreach (var algorithm in Enum.GetValues<KeyAgreementAlgorithm>())
        {
            _ = CryptoProvenance.Of(algorithm);
        }
    }

    [Fact]
    public void Every_algorithm_of_a_spec_runs_where_the_spec_runs_and_is_refused_when_the_spec_is()
    {
        foreach (var spec in Enum.GetValues<KeySpec>())
        {
            var ofSpec = CryptoProvenance.Of(spec);
            var algorithms = KeySpecs.SigningAlgorithmsOf(spec).Select(CryptoProvenance.Of)
                .Concat(KeySpecs.IsHmac(spec) ? [CryptoProvenance.Of(KeySpecs.MacAlgorithmOf(spec))] : [])
                .Concat(KeySpecs.AllowsUsage(spec, KeyUsage.EncryptDecrypt) ? KeySpecs.EncryptionAlgorithmsOf(spec, KeyUsage.EncryptDecrypt).Select(CryptoProvenance.Of) : []);
            foreach (var algorithm in algorithms)
            {
                // secp256k1 runs ECDSA on the platform, but the curve is not approved: the spec decides.
                Assert.True(ofSpec.Provider == algorithm.Provider || ofSpec.Provider == CryptoProvider.Unavailable, $"{spec}: {algorithm.Algorithm}");
                Assert.False(ofSpec.AllowedInFipsMode && !algorithm.AllowedInFipsMode, $"{spec}: {algorithm.Algorithm}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(SpecTable))]
    public async Task Create_key_under_the_option_follows_the_table(string spec, string usage, string expected)
    {
        using var kms = new TestKeyManager(options: Fips);
        var request = new CreateKeyRequest { KeySpec = Enum.Parse<KeySpec>(spec), KeyUsage = Enum.Parse<KeyUsage>(usage) };
        if (expected == Allowed)
        {
            var created = await kms.Manager.CreateKeyAsync(request, Ct);
            Assert.Equal(request.KeySpec, created.KeyMetadata.KeySpec);
            return;
        }

        var error = await Assert.ThrowsAsync<KmsUnsupportedOperationException>(() => kms.Manager.CreateKeyAsync(request, Ct));
        Assert.Equal("UnsupportedOperationException", error.ErrorCode);
        Assert.Contains(request.KeySpec.ToKmsName(), error.Message, StringComparison.Ordinal);
        Assert.Contains("FipsApprovedAlgorithmsOnly", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected == BouncyCastle ? "runs in BouncyCastle" : "is not FIPS-approved", error.Message, StringComparison.Ordinal);
        Assert.Empty(await kms.Manager.AllKeyIdsAsync());
    }

    [Theory]
    [InlineData("ECC_SECG_P256K1", false)]
    [InlineData("ECC_NIST_EDWARDS25519", false)]
    [InlineData("ML_KEM_768", false)]
    [InlineData("ECC_NIST_P256", true)]
    [InlineData("RSA_2048", true)]
    public async Task Data_key_pairs_under_the_option_follow_the_table(string pairSpec, bool allowed)
    {
        using var kms = new TestKeyManager(options: Fips);
        var keyId = (await kms.Manager.CreateKeyAsync(new CreateKeyRequest(), Ct)).KeyMetadata.KeyId;
        var spec = KmsNames.ParseDataKeyPairSpec(pairSpec);
        Func<Task> call = () => kms.Manager.GenerateDataKeyPairWithoutPlaintextAsync(new GenerateDataKeyPairRequest { KeyId = keyId, KeyPairSpec = spec }, Ct);

        if (allowed)
        {
            await call();
        }
        else
        {
            var e = await Assert.ThrowsAsync<KmsUnsupportedOperationException>(call);
            Assert.Contains("FipsApprovedAlgorithmsOnly", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task External_origin_keys_of_refused_specs_are_refused_too()
    {
        using var kms = new TestKeyManager(options: Fips);
        await Assert.ThrowsAsync<KmsUnsupportedOperationException>(() => kms.Manager.CreateKeyAsync(
            new CreateKeyRequest { KeySpec = KeySpec.Hmac224, KeyUsage = KeyUsage.GenerateVerifyMac, Origin = KeyOrigin.External }, Ct));
    }

    [Fact]
    public async Task Without_the_option_every_spec_is_created()
    {
        using var kms = new TestKeyManager();
        Assert.False(kms.Manager.FipsApprovedAlgorithmsOnly);
        var created = await kms.Manager.CreateKeyAsync(new CreateKeyRequest { KeySpec = KeySpec.EccNistEdwards25519, KeyUsage = KeyUsage.SignVerify }, Ct);
        Assert.Equal(KeySpec.EccNistEdwards25519, created.KeyMetadata.KeySpec);
    }

    /// <summary>Keys made before the option was turned on, then used by a key manager with it, on the same store and root key.</summary>
    private sealed class ExistingKeys : IDisposable
    {
        private readonly InMemoryKeyStore _store = new();
        private readonly StaticRootKeyProvider _root = new(new byte[32]);

        public KeyManager Before { get; }

        public KeyManager After { get; }

        public ExistingKeys()
        {
            Before = new KeyManager(_store, _root);
            After = new KeyManager(_store, _root, Fips);
        }

        public async Task<string> CreateAsync(KeySpec spec, KeyUsage usage)
            => (await Before.CreateKeyAsync(new CreateKeyRequest { KeySpec = spec, KeyUsage = usage }, Ct)).KeyMetadata.KeyId;

        public void Dispose()
        {
            Before.Dispose();
            After.Dispose();
        }
    }

    private static async Task AssertRefusedAsync(Func<Task> call, KeySpec spec)
    {
        var error = await Assert.ThrowsAsync<KmsUnsupportedOperationException>(call);
        Assert.Contains(spec.ToKmsName(), error.Message, StringComparison.Ordinal);
        Assert.Contains("FipsApprovedAlgorithmsOnly", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Existing_ed25519_and_ml_dsa_keys_cannot_sign_verify_or_export_under_the_option()
    {
        using var keys = new ExistingKeys();
        foreach (var (spec, algorithm) in new[] { (KeySpec.EccNistEdwards25519, SigningAlgorithm.Ed25519Sha512), (KeySpec.MlDsa65, SigningAlgorithm.MlDsaShake256) })
        {
            var keyId = await keys.CreateAsync(spec, KeyUsage.SignVerify);
            var signature = (await keys.Before.SignAsync(new SignRequest { KeyId = keyId, Message = "m"u8.ToArray(), SigningAlgorithm = algorithm }, Ct)).Signature;

            await AssertRefusedAsync(() => keys.After.SignAsync(new SignRequest { KeyId = keyId, Message = "m"u8.ToArray(), SigningAlgorithm = algorithm }, Ct), spec);
            await AssertRefusedAsync(() => keys.After.VerifyAsync(new VerifyRequest { KeyId = keyId, Message = "m"u8.ToArray(), Signature = signature, SigningAlgorithm = algorithm }, Ct), spec);
            await AssertRefusedAsync(() => keys.After.GetPublicKeyAsync(new GetPublicKeyRequest { KeyId = keyId }, Ct), spec);

            // The key can still be described and retired.
            Assert.Equal(spec, (await keys.After.DescribeKeyAsync(new DescribeKeyRequest { KeyId = keyId }, Ct)).KeyMetadata.KeySpec);
            await keys.After.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = keyId, PendingWindowInDays = 7 }, Ct);
        }
    }

    [Fact]
    public async Task Existing_secp256k1_keys_cannot_sign_or_agree_under_the_option()
    {
        Assert.SkipUnless(Ecdh.IsSupported(EcdhCurve.Secp256k1), "The platform lacks secp256k1.");
        using var keys = new ExistingKeys();
        var signing = await keys.CreateAsync(KeySpec.EccSecgP256k1, KeyUsage.SignVerify);
        var agreement = await keys.CreateAsync(KeySpec.EccSecgP256k1, KeyUsage.KeyAgreement);
        var peer = (await keys.Before.GetPublicKeyAsync(new GetPublicKeyRequest { KeyId = signing }, Ct)).PublicKey;

        await AssertRefusedAsync(() => keys.After.SignAsync(new SignRequest { KeyId = signing, Message = "m"u8.ToArray(), SigningAlgorithm = SigningAlgorithm.EcdsaSha256 }, Ct), KeySpec.EccSecgP256k1);
        await AssertRefusedAsync(() => keys.After.DeriveSharedSecretAsync(new DeriveSharedSecretRequest { KeyId = agreement, PublicKey = peer, KeyAgreementAlgorithm = KeyAgreementAlgorithm.Ecdh }, Ct), KeySpec.EccSecgP256k1);
    }

    [Fact]
    public async Task Existing_hmac_224_keys_cannot_make_or_verify_macs_under_the_option()
    {
        using var keys = new ExistingKeys();
        var keyId = await keys.CreateAsync(KeySpec.Hmac224, KeyUsage.GenerateVerifyMac);
        await AssertRefusedAsync(() => keys.After.GenerateMacAsync(new GenerateMacRequest { KeyId = keyId, Message = "m"u8.ToArray(), MacAlgorithm = MacAlgorithm.HmacSha224 }, Ct), KeySpec.Hmac224);

        // Refused before any cryptography: a MAC of the wrong length would otherwise be MacValid = false.
        await AssertRefusedAsync(() => keys.After.VerifyMacAsync(new VerifyMacRequest { KeyId = keyId, Message = "m"u8.ToArray(), Mac = new byte[3], MacAlgorithm = MacAlgorithm.HmacSha224 }, Ct), KeySpec.Hmac224);
    }

    [Fact]
    public async Task Existing_ml_kem_keys_cannot_encapsulate_or_decapsulate_under_the_option()
    {
        using var keys = new ExistingKeys();
        var keyId = await keys.CreateAsync(KeySpec.MlKem768, KeyUsage.EncapsulateDecapsulate);
        using var encapsulated = await keys.Before.EncapsulateAsync(new EncapsulateRequest { KeyId = keyId }, Ct);

        await AssertRefusedAsync(() => keys.After.EncapsulateAsync(new EncapsulateRequest { KeyId = keyId }, Ct), KeySpec.MlKem768);
        await AssertRefusedAsync(() => keys.After.DecapsulateAsync(new DecapsulateRequest { KeyId = keyId, Ciphertext = encapsulated.Ciphertext }, Ct), KeySpec.MlKem768);
    }

    [Fact]
    public async Task A_refused_use_is_audited_as_a_failure_with_its_error_code()
    {
        using var kms = new TestKeyManager();
        var keyId = (await kms.Manager.CreateKeyAsync(new CreateKeyRequest { KeySpec = KeySpec.Hmac224, KeyUsage = KeyUsage.GenerateVerifyMac }, Ct)).KeyMetadata.KeyId;
        var audit = new RecordingAuditSink();
        using var fips = new KeyManager(kms.Store, kms.RootKey, Fips, kms.Clock, auditSink: audit);

        await Assert.ThrowsAsync<KmsUnsupportedOperationException>(() => fips.GenerateMacAsync(new GenerateMacRequest { KeyId = keyId, Message = "m"u8.ToArray(), MacAlgorithm = MacAlgorithm.HmacSha224 }, Ct));

        var last = audit.Events[^1];
        Assert.Equal(KmsOutcome.Failure, last.Outcome);
        Assert.Equal("UnsupportedOperationException", last.ErrorCode);
    }

    [Fact]
    public async Task Allowed_keys_work_as_before_under_the_option()
    {
        using var keys = new ExistingKeys();
        var ecdsa = await keys.CreateAsync(KeySpec.EccNistP256, KeyUsage.SignVerify);
        var hmac = await keys.CreateAsync(KeySpec.Hmac256, KeyUsage.GenerateVerifyMac);
        var rsa = await keys.CreateAsync(KeySpec.Rsa2048, KeyUsage.EncryptDecrypt);
        var aes = await keys.CreateAsync(KeySpec.SymmetricDefault, KeyUsage.EncryptDecrypt);

        var signature = (await keys.After.SignAsync(new SignRequest { KeyId = ecdsa, Message = "m"u8.ToArray(), SigningAlgorithm = SigningAlgorithm.EcdsaSha256 }, Ct)).Signature;
        Assert.True((await keys.Before.VerifyAsync(new VerifyRequest { KeyId = ecdsa, Message = "m"u8.ToArray(), Signature = signature, SigningAlgorithm = SigningAlgorithm.EcdsaSha256 }, Ct)).SignatureValid);
        var mac = (await keys.After.GenerateMacAsync(new GenerateMacRequest { KeyId = hmac, Message = "m"u8.ToArray(), MacAlgorithm = MacAlgorithm.HmacSha256 }, Ct)).Mac;
        Assert.True((await keys.Before.VerifyMacAsync(new VerifyMacRequest { KeyId = hmac, Message = "m"u8.ToArray(), Mac = mac, MacAlgorithm = MacAlgorithm.HmacSha256 }, Ct)).MacValid);
        var oaep = (await keys.After.EncryptAsync(new EncryptRequest { KeyId = rsa, Plaintext = "m"u8.ToArray(), EncryptionAlgorithm = EncryptionAlgorithm.RsaesOaepSha1 }, Ct)).CiphertextBlob;
        using (var decrypted = await keys.Before.DecryptAsync(new DecryptRequest { KeyId = rsa, CiphertextBlob = oaep, EncryptionAlgorithm = EncryptionAlgorithm.RsaesOaepSha1 }, Ct))
        {
            Assert.Equal("m"u8.ToArray(), decrypted.Plaintext.ToArray());
        }

        var blob = await keys.After.EncryptBlobAsync(aes, "m"u8.ToArray());
        Assert.Equal("m"u8.ToArray(), await keys.Before.DecryptBlobAsync(blob));
    }

    // ---------------------------------------------------------------- envelope backend

    [Fact]
    public async Task Under_the_option_the_automatic_envelope_backend_is_the_platforms_aes_gcm()
    {
        using var kms = new TestKeyManager(options: Fips);
        using var encryptor = new EnvelopeEncryptor(kms.Manager, new EnvelopeOptions(), kms.Clock);
        Assert.Equal(AeadBackend.Platform, encryptor.Backend);

        var key = await kms.Manager.NewKeyAsync();
        var envelope = await encryptor.EncryptAsync(key.KeyId, "small message"u8.ToArray(), cancellationToken: Ct);
        Assert.Equal("small message"u8.ToArray(), await encryptor.DecryptAsync(envelope, cancellationToken: Ct));
    }

    [Fact]
    public void Without_the_option_the_envelope_backend_is_the_configured_one()
    {
        using var kms = new TestKeyManager();
        using var encryptor = new EnvelopeEncryptor(kms.Manager, new EnvelopeOptions(), kms.Clock);
        Assert.Equal(AeadBackend.Automatic, encryptor.Backend);
    }

    [Fact]
    public void Under_the_option_an_explicit_libsodium_backend_is_refused()
    {
        using var kms = new TestKeyManager(options: Fips);
        var error = Assert.Throws<OptionsValidationException>(() => new EnvelopeEncryptor(kms.Manager, new EnvelopeOptions { Backend = AeadBackend.Libsodium }, kms.Clock));
        Assert.Contains("Libsodium", error.Message, StringComparison.Ordinal);
        Assert.Contains("FipsApprovedAlgorithmsOnly", error.Message, StringComparison.Ordinal);
    }

    // ---------------------------------------------------------------- options and configuration

    [Fact]
    public void The_option_is_off_by_default_and_valid_either_way()
    {
        Assert.False(new EnvelopeKmsOptions().FipsApprovedAlgorithmsOnly);
        var validator = new EnvelopeKmsOptionsValidator();
        Assert.True(validator.Validate(null, new EnvelopeKmsOptions { FipsApprovedAlgorithmsOnly = true }).Succeeded);
        Assert.True(validator.Validate(null, new EnvelopeKmsOptions()).Succeeded);
    }

    private static ServiceProvider BuildFromConfiguration(Dictionary<string, string?> settings, Action<EnvelopeKmsBuilder>? configure = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddEnvelopeKms(b =>
        {
            b.UseInMemoryKeyStore();
            configure?.Invoke(b);
        });
        services.AddOptions<EnvelopeKmsOptions>().Bind(configuration.GetSection("EnvelopeKms"));
        return services.BuildServiceProvider();
    }

    [Fact]
    public async Task The_option_binds_from_configuration_and_reaches_the_key_manager_and_the_encryptor()
    {
        await using var provider = BuildFromConfiguration(new() { ["EnvelopeKms:FipsApprovedAlgorithmsOnly"] = "true" });
        var manager = provider.GetRequiredService<KeyManager>();
        Assert.True(manager.FipsApprovedAlgorithmsOnly);
        Assert.Equal(AeadBackend.Platform, provider.GetRequiredService<EnvelopeEncryptor>().Backend);
        await Assert.ThrowsAsync<KmsUnsupportedOperationException>(() => manager.CreateKeyAsync(new CreateKeyRequest { KeySpec = KeySpec.MlDsa44, KeyUsage = KeyUsage.SignVerify }, Ct));
    }

    [Fact]
    public async Task A_libsodium_backend_with_the_option_fails_options_validation_in_the_container()
    {
        await using var provider = BuildFromConfiguration(
            new() { ["EnvelopeKms:FipsApprovedAlgorithmsOnly"] = "true" },
            b => b.ConfigureEnvelopes(o => o.Backend = AeadBackend.Libsodium));

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<EnvelopeOptions>>().Value);
        Assert.Contains("FipsApprovedAlgorithmsOnly", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Key_manager_factory_passes_the_option_through()
    {
        using var manager = KeyManagerFactory.Create(b => b.UseInMemoryKeyStore().Configure(o => o.FipsApprovedAlgorithmsOnly = true));
        Assert.True(manager.FipsApprovedAlgorithmsOnly);
        await Assert.ThrowsAsync<KmsUnsupportedOperationException>(() => manager.CreateKeyAsync(new CreateKeyRequest { KeySpec = KeySpec.EccSecgP256k1, KeyUsage = KeyUsage.SignVerify }, Ct));
    }
}
