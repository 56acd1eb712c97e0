using EnvelopeKms.Auditing;
using EnvelopeKms.Tests.Infrastructure;
using EnvelopeKms.Tests.KeyManagement;
using static EnvelopeKms.Tests.Authorization.Principals;

namespace EnvelopeKms.Tests.Authorization;

/// <summary><c>DryRun</c>: validation, authorization and key state, then <c>DryRunOperationException</c>; nothing runs.</summary>
public sealed class DryRunTests
{
    [Fact]
    public async Task A_dry_run_that_would_succeed_fails_with_DryRunOperation_and_is_audited_as_such()
    {
        using var kms = new TestKeyManager();
        var key = await kms.Api().NewKeyAsync();

        var e = await Assert.ThrowsAsync<KmsDryRunOperationException>(() => kms.Api().EncryptAsync(new EncryptRequest { KeyId = key.KeyId, Plaintext = new byte[] { 1 }, DryRun = true }, Kms.Ct));

        Assert.Equal("DryRunOperationException", e.ErrorCode);
        var audit = kms.Audit.Events[^1];
        Assert.Equal(KmsOperation.Encrypt, audit.Operation);
        Assert.Equal("DryRunOperationException", audit.ErrorCode);
        Assert.Null(audit.KeyMaterialId);
    }

    [Fact]
    public async Task A_dry_run_reports_the_error_the_real_call_would_get()
    {
        using var kms = new TestKeyManager();
        var key = await kms.Api().NewKeyAsync();
        var blob = await kms.Api().EncryptBlobAsync(key.KeyId, Kms.Utf8("x"));

        await Assert.ThrowsAsync<KmsAccessDeniedException>(() => kms.Api().EncryptAsync(new EncryptRequest { Caller = App, KeyId = key.KeyId, Plaintext = new byte[] { 1 }, DryRun = true }, Kms.Ct));
        await Assert.ThrowsAsync<KmsValidationException>(() => kms.Api().EncryptAsync(new EncryptRequest { KeyId = key.KeyId, Plaintext = new byte[4097], DryRun = true }, Kms.Ct));
        await kms.Api().DisableKeyAsync(new DisableKeyRequest { KeyId = key.KeyId }, Kms.Ct);
        await Assert.ThrowsAsync<KmsDisabledException>(() => kms.Api().DecryptAsync(new DecryptRequest { CiphertextBlob = blob, DryRun = true }, Kms.Ct));
    }

    [Fact]
    public async Task ReEncrypt_dry_runs_check_the_destination_key_too()
    {
        using var kms = new TestKeyManager();
        var source = await kms.Api().NewKeyAsync();
        var destination = await kms.Api().NewKeyAsync();
        var blob = await kms.Api().EncryptBlobAsync(source.KeyId, Kms.Utf8("x"));

        await Assert.ThrowsAsync<KmsDryRunOperationException>(() => kms.Api().ReEncryptAsync(new ReEncryptRequest { CiphertextBlob = blob, DestinationKeyId = destination.KeyId, DryRun = true }, Kms.Ct));
        await kms.Api().DisableKeyAsync(new DisableKeyRequest { KeyId = destination.KeyId }, Kms.Ct);
        await Assert.ThrowsAsync<KmsDisabledException>(() => kms.Api().ReEncryptAsync(new ReEncryptRequest { CiphertextBlob = blob, DestinationKeyId = destination.KeyId, DryRun = true }, Kms.Ct));
    }

    [Fact]
    public async Task Dry_runs_of_grant_operations_change_nothing()
    {
        using var kms = new TestKeyManager();
        var key = await kms.Api().NewKeyAsync();
        var grant = await kms.Api().CreateGrantAsync(new CreateGrantRequest { KeyId = key.KeyId, GranteePrincipal = App.PrincipalArn, Operations = [GrantOperation.Encrypt] }, Kms.Ct);

        await Assert.ThrowsAsync<KmsDryRunOperationException>(() => kms.Api().CreateGrantAsync(new CreateGrantRequest { KeyId = key.KeyId, GranteePrincipal = Auditor.PrincipalArn, Operations = [GrantOperation.Decrypt], DryRun = true }, Kms.Ct));
        await Assert.ThrowsAsync<KmsValidationException>(() => kms.Api().CreateGrantAsync(new CreateGrantRequest { KeyId = key.KeyId, GranteePrincipal = Auditor.PrincipalArn, Operations = [GrantOperation.Sign], DryRun = true }, Kms.Ct));
        await Assert.ThrowsAsync<KmsDryRunOperationException>(() => kms.Api().RetireGrantAsync(new RetireGrantRequest { GrantToken = grant.GrantToken, DryRun = true }, Kms.Ct));
        await Assert.ThrowsAsync<KmsDryRunOperationException>(() => kms.Api().RevokeGrantAsync(new RevokeGrantRequest { KeyId = key.KeyId, GrantId = grant.GrantId, DryRun = true }, Kms.Ct));

        var grants = await kms.Api().ListGrantsAsync(new ListGrantsRequest { KeyId = key.KeyId }, Kms.Ct);
        Assert.Equal(grant.GrantId, Assert.Single(grants.Items).GrantId);
    }

    [Theory]
    [MemberData(nameof(DryRunOperations))]
    public async Task Every_operation_that_takes_DryRun_honours_it(string operation)
    {
        using var catalog = await OperationCatalog.CreateAsync();
        var before = await catalog.SnapshotAsync();

        await Assert.ThrowsAsync<KmsDryRunOperationException>(() => DryRun(catalog, operation));

        Assert.Equal(before, await catalog.SnapshotAsync());
    }

    public static TheoryData<string> DryRunOperations =>
    [
        "Encrypt", "Decrypt", "ReEncrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext",
        "GenerateMac", "VerifyMac", "Sign", "Verify", "DeriveSharedSecret", "Decapsulate", "Encapsulate", "CreateGrant", "RetireGrant", "RevokeGrant",
    ];

    private static Task DryRun(OperationCatalog c, string operation)
    {
        var km = c.Api;
        var ct = Kms.Ct;
        var id = c.Key.KeyId;
        return operation switch
        {
            "Encrypt" => km.EncryptAsync(new EncryptRequest { KeyId = id, Plaintext = new byte[] { 1 }, DryRun = true }, ct),
            "Decrypt" => km.DecryptAsync(new DecryptRequest { CiphertextBlob = c.Blob, EncryptionContext = OperationCatalog.Context, DryRun = true }, ct),
            "ReEncrypt" => km.ReEncryptAsync(new ReEncryptRequest { CiphertextBlob = c.Blob, SourceEncryptionContext = OperationCatalog.Context, DestinationKeyId = c.Other.KeyId, DryRun = true }, ct),
            "GenerateDataKey" => km.GenerateDataKeyAsync(new GenerateDataKeyRequest { KeyId = id, KeySpec = DataKeySpec.Aes256, DryRun = true }, ct),
            "GenerateDataKeyWithoutPlaintext" => km.GenerateDataKeyWithoutPlaintextAsync(new GenerateDataKeyRequest { KeyId = id, KeySpec = DataKeySpec.Aes256, DryRun = true }, ct),
            "GenerateDataKeyPair" => km.GenerateDataKeyPairAsync(new GenerateDataKeyPairRequest { KeyId = id, KeyPairSpec = DataKeyPairSpec.EccNistP256, DryRun = true }, ct),
            "GenerateDataKeyPairWithoutPlaintext" => km.GenerateDataKeyPairWithoutPlaintextAsync(new GenerateDataKeyPairRequest { KeyId = id, KeyPairSpec = DataKeyPairSpec.EccNistP256, DryRun = true }, ct),
            "GenerateMac" => km.GenerateMacAsync(new GenerateMacRequest { KeyId = c.MacKey.KeyId, Message = new byte[] { 1 }, MacAlgorithm = MacAlgorithm.HmacSha256, DryRun = true }, ct),
            "VerifyMac" => km.VerifyMacAsync(new VerifyMacRequest { KeyId = c.MacKey.KeyId, Message = new byte[] { 1 }, Mac = new byte[32], MacAlgorithm = MacAlgorithm.HmacSha256, DryRun = true }, ct),
            "Sign" => km.SignAsync(new SignRequest { KeyId = c.SigningKey.KeyId, Message = new byte[] { 1 }, SigningAlgorithm = SigningAlgorithm.EcdsaSha256, DryRun = true }, ct),
            "Verify" => km.VerifyAsync(new VerifyRequest { KeyId = c.SigningKey.KeyId, Message = new byte[] { 1 }, Signature = new byte[70], SigningAlgorithm = SigningAlgorithm.EcdsaSha256, DryRun = true }, ct),
            "DeriveSharedSecret" => km.DeriveSharedSecretAsync(new DeriveSharedSecretRequest { KeyId = c.AgreementKey.KeyId, PublicKey = OperationCatalog.PeerPublicKey, DryRun = true }, ct),
            "Decapsulate" => km.DecapsulateAsync(new DecapsulateRequest { KeyId = c.KemKey.KeyId, Ciphertext = new byte[1088], DryRun = true }, ct),
            "Encapsulate" => km.EncapsulateAsync(new EncapsulateRequest { KeyId = c.KemKey.KeyId, DryRun = true }, ct),
            "CreateGrant" => km.CreateGrantAsync(new CreateGrantRequest { KeyId = id, GranteePrincipal = App.PrincipalArn, Operations = [GrantOperation.Encrypt], DryRun = true }, ct),
            "RetireGrant" => km.RetireGrantAsync(new RetireGrantRequest { KeyId = id, GrantId = c.GrantId, DryRun = true }, ct),
            "RevokeGrant" => km.RevokeGrantAsync(new RevokeGrantRequest { KeyId = id, GrantId = c.GrantId, DryRun = true }, ct),
            _ => throw new ArgumentOutOfRangeException(nameof(operation)),
        };
    }
}
