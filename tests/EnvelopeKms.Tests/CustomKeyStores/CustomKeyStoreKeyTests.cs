using System.Text;
using EnvelopeKms.CustomKeyStores;
using EnvelopeKms.Tests.KeyManagement;

namespace EnvelopeKms.Tests.CustomKeyStores;

/// <summary>KMS keys in custom key stores: creation rules, cryptography in the backend, Unavailable while disconnected, and every XKS failure mode.</summary>
public sealed class CustomKeyStoreKeyTests
{
    private static readonly Dictionary<string, string> Context = new() { ["tenant"] = "acme" };

    [Fact]
    public async Task A_key_in_an_external_key_store_encrypts_with_double_encryption_through_the_proxy()
    {
        using var f = new CustomKeyStoreFixture();
        var store = await f.CreateXksStoreAsync();

        var key = await f.CreateXksKeyAsync(store);

        Assert.Equal(KeyState.Enabled, key.KeyState);
        Assert.Equal(KeyOrigin.ExternalKeyStore, key.Origin);
        Assert.Equal(store, key.CustomKeyStoreId);
        Assert.Equal(CustomKeyStoreFixture.ExternalKeyId, key.XksKeyConfiguration!.Id);
        Assert.Null(key.CloudHsmClusterId);
        Assert.NotNull(key.CurrentKeyMaterialId);

        var encrypted = await f.Api.EncryptAsync(new EncryptRequest { KeyId = key.KeyId, Plaintext = Kms.Utf8("held outside"), EncryptionContext = Context }, Kms.Ct);
        Assert.Equal(key.CurrentKeyMaterialId, encrypted.KeyMaterialId);
        Assert.Equal(0x02, encrypted.CiphertextBlob[0]);
        Assert.Equal(CustomKeyStoreCiphertextFormat.AlgorithmExternalDouble, encrypted.CiphertextBlob[1]);
        // header (3 + 36 + 32) + IV 12 + inner (nonce 12 + 12 bytes + tag 16) + tag 16
        Assert.Equal(71 + 12 + 40 + 16, encrypted.CiphertextBlob.Length);
        Assert.Equal("held outside", Encoding.UTF8.GetString(await f.Api.DecryptBlobAsync(encrypted.CiphertextBlob, Context)));
        await Assert.ThrowsAsync<KmsInvalidCiphertextException>(() => f.Api.DecryptBlobAsync(encrypted.CiphertextBlob, new Dictionary<string, string> { ["tenant"] = "other" }));

        var metadata = f.Proxy.Requests.Last(r => r.KmsOperation == "Encrypt");
        Assert.Equal(Kms.RootArn, metadata.AwsPrincipalArn);
        Assert.Equal(Kms.KeyArn(key.KeyId), metadata.KmsKeyArn);
        Assert.NotNull(metadata.KmsRequestId);
        Assert.Contains(f.Proxy.Requests, r => r.KmsOperation == "CreateKey");
    }

    [Fact]
    public async Task Data_keys_and_re_encryption_work_across_custom_and_standard_keys()
    {
        using var f = new CustomKeyStoreFixture();
        var xksKey = await f.CreateXksKeyAsync(await f.CreateXksStoreAsync());
        var hsmKey = await f.CreateHsmKeyAsync(await f.CreateHsmStoreAsync());
        var standard = await f.Api.NewKeyAsync("standard");

        using var dataKey = await f.Api.GenerateDataKeyAsync(new GenerateDataKeyRequest { KeyId = hsmKey.KeyId, KeySpec = DataKeySpec.Aes256, EncryptionContext = Context }, Kms.Ct);
        Assert.Equal(dataKey.Plaintext.ToArray(), await f.Api.DecryptBlobAsync(dataKey.CiphertextBlob.ToArray(), Context));
        var withoutPlaintext = await f.Api.GenerateDataKeyWithoutPlaintextAsync(new GenerateDataKeyRequest { KeyId = xksKey.KeyId, NumberOfBytes = 24 }, Kms.Ct);
        Assert.Equal(24, (await f.Api.DecryptBlobAsync(withoutPlaintext.CiphertextBlob.ToArray())).Length);

        var blob = await f.Api.EncryptBlobAsync(hsmKey.KeyId, Kms.Utf8("moving"));
        var toXks = await f.Api.ReEncryptAsync(new ReEncryptRequest { CiphertextBlob = blob, DestinationKeyId = xksKey.KeyId }, Kms.Ct);
        var toStandard = await f.Api.ReEncryptAsync(new ReEncryptRequest { CiphertextBlob = toXks.CiphertextBlob, DestinationKeyId = standard.KeyId }, Kms.Ct);
        Assert.Equal(Kms.KeyArn(hsmKey.KeyId), toXks.SourceKeyId);
        Assert.Equal("moving", Encoding.UTF8.GetString(await f.Api.DecryptBlobAsync(toStandard.CiphertextBlob)));
    }

    [Fact]
    public async Task A_key_in_an_hsm_key_store_lives_in_the_hsm_and_its_deletion_destroys_it_there()
    {
        using var f = new CustomKeyStoreFixture();
        var store = await f.CreateHsmStoreAsync();

        var key = await f.CreateHsmKeyAsync(store);

        Assert.Equal(KeyOrigin.AwsCloudHsm, key.Origin);
        Assert.Equal(CustomKeyStoreFixture.ClusterId, key.CloudHsmClusterId);
        Assert.Null(key.XksKeyConfiguration);
        Assert.Single(f.Hsm.Keys);
        var blob = await f.Api.EncryptBlobAsync(key.KeyId, Kms.Utf8("in the hsm"), Context);
        Assert.Equal(CustomKeyStoreCiphertextFormat.AlgorithmHsm, blob[1]);
        Assert.Equal("in the hsm", Encoding.UTF8.GetString(await f.Api.DecryptBlobAsync(blob, Context, key.KeyId)));
        var record = await f.Kms.Store.GetKeyAsync(key.KeyId, Kms.Ct);
        Assert.Empty(record!.KeyMaterials);
        Assert.Equal(f.Hsm.Keys.Keys.Single(), record.CustomKeyStoreKeyId);

        await f.Api.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = key.KeyId, PendingWindowInDays = 7 }, Kms.Ct);
        Assert.Single(f.Hsm.Keys);
        f.Kms.Clock.Advance(TimeSpan.FromDays(8));
        Assert.Equal(1, await f.Kms.Manager.PurgeExpiredKeysAsync(Kms.Ct));
        Assert.Empty(f.Hsm.Keys);
    }

    [Fact]
    public async Task Keys_are_Unavailable_while_their_store_is_disconnected_and_come_back_with_it()
    {
        using var f = new CustomKeyStoreFixture();
        var store = await f.CreateXksStoreAsync();
        var key = await f.CreateXksKeyAsync(store);
        var blob = await f.Api.EncryptBlobAsync(key.KeyId, Kms.Utf8("wait for me"));

        await f.DisconnectAsync(store);

        Assert.Equal(KeyState.Unavailable, (await f.Api.DescribeAsync(key.KeyId)).KeyState);
        Assert.Equal("KMSInvalidStateException", (await Assert.ThrowsAsync<KmsInvalidStateException>(() => f.Api.EncryptBlobAsync(key.KeyId, [1]))).ErrorCode);
        await Assert.ThrowsAsync<KmsInvalidStateException>(() => f.Api.DecryptBlobAsync(blob));
        await Assert.ThrowsAsync<KmsInvalidStateException>(() => f.Api.GenerateDataKeyAsync(new GenerateDataKeyRequest { KeyId = key.KeyId, NumberOfBytes = 16 }, Kms.Ct));
        // Key management still works, and the stored state is kept under Unavailable.
        await f.Api.DisableKeyAsync(new DisableKeyRequest { KeyId = key.KeyId }, Kms.Ct);
        await f.Api.UpdateKeyDescriptionAsync(new UpdateKeyDescriptionRequest { KeyId = key.KeyId, Description = "offline" }, Kms.Ct);
        Assert.Equal(KeyState.Unavailable, (await f.Api.DescribeAsync(key.KeyId)).KeyState);
        // Creating a key in a disconnected store is a custom key store state error.
        var e = await Assert.ThrowsAsync<KmsCustomKeyStoreInvalidStateException>(() => f.CreateXksKeyAsync(store, "other"));
        Assert.Equal(CustomKeyStoreConnectionState.Disconnected, e.ConnectionState);

        await f.ConnectAsync(store);

        Assert.Equal(KeyState.Disabled, (await f.Api.DescribeAsync(key.KeyId)).KeyState);
        await f.Api.EnableKeyAsync(new EnableKeyRequest { KeyId = key.KeyId }, Kms.Ct);
        Assert.Equal("wait for me", Encoding.UTF8.GetString(await f.Api.DecryptBlobAsync(blob)));
    }

    [Fact]
    public async Task Creating_keys_in_custom_key_stores_follows_the_kms_rules()
    {
        using var f = new CustomKeyStoreFixture();
        var xks = await f.CreateXksStoreAsync();
        var hsm = await f.CreateHsmStoreAsync();
        f.Proxy.CreateKey("disabled", enabled: false);
        f.Proxy.CreateKey("hmac", keySpec: "HMAC_256");
        f.Proxy.CreateKey("encrypt-only", keyUsage: ["ENCRYPT"]);
        await f.CreateXksKeyAsync(xks);
        var km = f.Api;

        await Assert.ThrowsAsync<KmsXksKeyNotFoundException>(() => f.CreateXksKeyAsync(xks, "missing"));
        await Assert.ThrowsAsync<KmsXksKeyInvalidConfigurationException>(() => f.CreateXksKeyAsync(xks, "disabled"));
        await Assert.ThrowsAsync<KmsXksKeyInvalidConfigurationException>(() => f.CreateXksKeyAsync(xks, "hmac"));
        await Assert.ThrowsAsync<KmsXksKeyInvalidConfigurationException>(() => f.CreateXksKeyAsync(xks, "encrypt-only"));
        await Assert.ThrowsAsync<KmsXksKeyAlreadyInUseException>(() => f.CreateXksKeyAsync(xks));
        await Assert.ThrowsAsync<KmsValidationException>(() => km.CreateKeyAsync(new CreateKeyRequest { CustomKeyStoreId = xks, Origin = KeyOrigin.ExternalKeyStore }, Kms.Ct));
        await Assert.ThrowsAsync<KmsValidationException>(() => km.CreateKeyAsync(new CreateKeyRequest { CustomKeyStoreId = xks, Origin = KeyOrigin.AwsCloudHsm }, Kms.Ct));
        await Assert.ThrowsAsync<KmsValidationException>(() => km.CreateKeyAsync(new CreateKeyRequest { CustomKeyStoreId = hsm }, Kms.Ct));
        await Assert.ThrowsAsync<KmsValidationException>(() => km.CreateKeyAsync(new CreateKeyRequest { Origin = KeyOrigin.AwsCloudHsm }, Kms.Ct));
        await Assert.ThrowsAsync<KmsUnsupportedOperationException>(() => km.CreateKeyAsync(new CreateKeyRequest { CustomKeyStoreId = hsm, Origin = KeyOrigin.AwsCloudHsm, KeySpec = KeySpec.Hmac256, KeyUsage = KeyUsage.GenerateVerifyMac }, Kms.Ct));
        await Assert.ThrowsAsync<KmsUnsupportedOperationException>(() => km.CreateKeyAsync(new CreateKeyRequest { CustomKeyStoreId = hsm, Origin = KeyOrigin.AwsCloudHsm, MultiRegion = true }, Kms.Ct));
        await Assert.ThrowsAsync<KmsCustomKeyStoreNotFoundException>(() => km.CreateKeyAsync(new CreateKeyRequest { CustomKeyStoreId = "cks-0123456789abcdef0", Origin = KeyOrigin.AwsCloudHsm }, Kms.Ct));

        // No automatic or on-demand rotation for keys in custom key stores.
        var key = await f.CreateHsmKeyAsync(hsm);
        await Assert.ThrowsAsync<KmsUnsupportedOperationException>(() => km.EnableKeyRotationAsync(new EnableKeyRotationRequest { KeyId = key.KeyId }, Kms.Ct));
        await Assert.ThrowsAsync<KmsUnsupportedOperationException>(() => km.RotateKeyOnDemandAsync(new RotateKeyOnDemandRequest { KeyId = key.KeyId }, Kms.Ct));
    }

    [Fact]
    public async Task Connection_failures_of_an_external_key_store_leave_it_FAILED_with_the_kms_error_code()
    {
        using var f = new CustomKeyStoreFixture(xksTimeout: TimeSpan.FromSeconds(1));
        var store = await f.CreateXksStoreAsync(connect: false);

        async Task<CustomKeyStoreConnectionErrorCode?> FailWith(Action<XksProxyFaults> fault)
        {
            f.Proxy.Faults.Clear();
            fault(f.Proxy.Faults);
            var response = await f.ConnectAsync(store);
            Assert.Equal(CustomKeyStoreConnectionState.Failed, response.ConnectionState);
            Assert.Equal(response.ConnectionErrorCode, (await f.StoredRecordAsync(store)).ConnectionErrorCode);
            await f.DisconnectAsync(store);
            return response.ConnectionErrorCode;
        }

        Assert.Equal(CustomKeyStoreConnectionErrorCode.XksProxyTimedOut, await FailWith(x => x.Latency = TimeSpan.FromSeconds(3)));
        Assert.Equal(CustomKeyStoreConnectionErrorCode.XksProxyNotReachable, await FailWith(x => x.Unreachable = true));
        Assert.Equal(CustomKeyStoreConnectionErrorCode.InvalidCredentials, await FailWith(x => x.FailWith = XksErrorName.AuthenticationFailedException));
        Assert.Equal(CustomKeyStoreConnectionErrorCode.XksProxyAccessDenied, await FailWith(x => x.FailWith = XksErrorName.AccessDeniedException));
        Assert.Equal(CustomKeyStoreConnectionErrorCode.XksProxyInvalidConfiguration, await FailWith(x => x.FailWith = XksErrorName.InvalidUriPathException));
        Assert.Equal(CustomKeyStoreConnectionErrorCode.XksProxyInvalidResponse, await FailWith(x => x.Unhealthy = true));
        Assert.Equal(CustomKeyStoreConnectionErrorCode.InternalError, await FailWith(x => x.FailWith = XksErrorName.InternalException));
        f.Proxy.Faults.Clear();
        Assert.Equal(CustomKeyStoreConnectionState.Connected, (await f.ConnectAsync(store)).ConnectionState);
    }

    [Fact]
    public async Task Each_proxy_failure_during_a_key_operation_surfaces_as_the_kms_exception_the_contract_names()
    {
        using var f = new CustomKeyStoreFixture(xksTimeout: TimeSpan.FromSeconds(1));
        var key = await f.CreateXksKeyAsync(await f.CreateXksStoreAsync());
        f.Proxy.CreateKey("another");
        var blob = await f.Api.EncryptBlobAsync(key.KeyId, Kms.Utf8("x"));

        async Task<KmsException> Fails(Action<XksProxyFaults> fault, bool decrypt = false)
        {
            f.Proxy.Faults.Clear();
            fault(f.Proxy.Faults);
            var e = await Assert.ThrowsAnyAsync<KmsException>(() => decrypt ? f.Api.DecryptBlobAsync(blob) : f.Api.EncryptBlobAsync(key.KeyId, [1, 2, 3]));
            f.Proxy.Faults.Clear();
            return e;
        }

        var started = System.Diagnostics.Stopwatch.StartNew();
        Assert.IsType<KmsDependencyTimeoutException>(await Fails(x => x.Latency = TimeSpan.FromSeconds(5)));
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(4), "The budget bounds the call.");
        var unreachable = Assert.IsType<KmsCustomKeyStoreInvalidStateException>(await Fails(x => x.Unreachable = true));
        Assert.Equal(CustomKeyStoreConnectionErrorCode.XksProxyNotReachable, unreachable.ConnectionErrorCode);
        Assert.IsType<KmsXksProxyIncorrectAuthenticationCredentialException>(await Fails(x => x.FailWith = XksErrorName.AuthenticationFailedException));
        Assert.Equal(CustomKeyStoreConnectionErrorCode.XksProxyAccessDenied, Assert.IsType<KmsCustomKeyStoreInvalidStateException>(await Fails(x => x.FailWith = XksErrorName.AccessDeniedException)).ConnectionErrorCode);
        Assert.IsType<KmsXksProxyInvalidResponseException>(await Fails(x => x.CorruptResponses = true));
        Assert.IsType<KmsXksProxyInvalidResponseException>(await Fails(x => x.CorruptResponses = true, decrypt: true));
        Assert.IsType<KmsInvalidCiphertextException>(await Fails(x => x.WrongKeyId = "another", decrypt: true));
        Assert.IsType<KmsInvalidCiphertextException>(await Fails(x => x.FlipPlaintext = true, decrypt: true));
        Assert.IsType<KmsUnsupportedOperationException>(await Fails(x => x.FailWith = XksErrorName.UnsupportedOperationException));
        Assert.IsType<KmsDependencyTimeoutException>(await Fails(x => x.FailWith = XksErrorName.DependencyTimeoutException));
        Assert.IsType<KmsInternalException>(await Fails(x => x.FailWith = XksErrorName.InternalException));
        Assert.IsType<KmsXksProxyInvalidResponseException>(await Fails(x => x.FailWith = XksErrorName.ValidationException));
        Assert.IsType<KmsXksKeyInvalidConfigurationException>(await Fails(x => x.FailWith = XksErrorName.InvalidKeyUsageException));

        f.Proxy.SetKeyEnabled(CustomKeyStoreFixture.ExternalKeyId, false);
        Assert.IsType<KmsInvalidStateException>(await Fails(_ => { }));
        f.Proxy.SetKeyEnabled(CustomKeyStoreFixture.ExternalKeyId, true);
        Assert.Equal("x", Encoding.UTF8.GetString(await f.Api.DecryptBlobAsync(blob)));

        f.Proxy.DeleteKey(CustomKeyStoreFixture.ExternalKeyId);
        Assert.IsType<KmsXksKeyNotFoundException>(await Fails(_ => { }, decrypt: true));

        // Every failure is audited with its error code, and none leaves the store failed: only a connection attempt does.
        Assert.Contains(f.Kms.Audit.Events, e => e.ErrorCode == "DependencyTimeoutException");
        Assert.Contains(f.Kms.Audit.Events, e => e.ErrorCode == "XksProxyInvalidResponseException");
        Assert.Equal(CustomKeyStoreConnectionState.Connected, (await f.DescribeStoreAsync(key.CustomKeyStoreId!)).ConnectionState);
    }

    [Fact]
    public async Task Tampered_or_mismatched_custom_key_store_ciphertexts_are_invalid()
    {
        using var f = new CustomKeyStoreFixture();
        var xksKey = await f.CreateXksKeyAsync(await f.CreateXksStoreAsync());
        var hsmKey = await f.CreateHsmKeyAsync(await f.CreateHsmStoreAsync());
        var standard = await f.Api.NewKeyAsync();
        var xksBlob = await f.Api.EncryptBlobAsync(xksKey.KeyId, Kms.Utf8("x"));
        var hsmBlob = await f.Api.EncryptBlobAsync(hsmKey.KeyId, Kms.Utf8("x"));
        var standardBlob = await f.Api.EncryptBlobAsync(standard.KeyId, Kms.Utf8("x"));

        byte[] With(byte[] blob, int index, byte value)
        {
            var copy = blob.ToArray();
            copy[index] = value;
            return copy;
        }

        await Assert.ThrowsAsync<KmsInvalidCiphertextException>(() => f.Api.DecryptBlobAsync(With(xksBlob, xksBlob.Length - 1, (byte)(xksBlob[^1] ^ 1))));
        await Assert.ThrowsAsync<KmsInvalidCiphertextException>(() => f.Api.DecryptBlobAsync(With(hsmBlob, hsmBlob.Length - 20, (byte)(hsmBlob[^20] ^ 1))));
        await Assert.ThrowsAsync<KmsInvalidCiphertextException>(() => f.Api.DecryptBlobAsync(With(xksBlob, 1, CustomKeyStoreCiphertextFormat.AlgorithmHsm)));
        await Assert.ThrowsAsync<KmsInvalidCiphertextException>(() => f.Api.DecryptBlobAsync(With(hsmBlob, 0, 0x01)));
        await Assert.ThrowsAsync<KmsInvalidCiphertextException>(() => f.Api.DecryptBlobAsync(With(standardBlob, 0, 0x02)));
    }

    [Fact]
    public async Task The_default_xks_budget_is_kms_250_milliseconds_and_bounds_a_slow_proxy()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(250), ExternalKeyStoreBackendOptions.DefaultTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(250), new ExternalKeyStoreBackendOptions().Timeout);
        using var proxy = new InProcessExternalKeyStoreProxy(CustomKeyStoreFixture.AccessKeyId, CustomKeyStoreFixture.Secret);
        await using var backend = new ExternalKeyStoreBackend(proxy, new XksProxyCredential(CustomKeyStoreFixture.AccessKeyId, CustomKeyStoreFixture.Secret));
        proxy.Faults.Latency = TimeSpan.FromSeconds(10);
        var started = System.Diagnostics.Stopwatch.StartNew();

        var e = await Assert.ThrowsAsync<KmsCustomKeyStoreInvalidStateException>(() => backend.ConnectAsync(Kms.Ct).AsTask());

        Assert.Equal(CustomKeyStoreConnectionErrorCode.XksProxyTimedOut, e.ConnectionErrorCode);
        Assert.Equal(CustomKeyStoreConnectionState.Failed, backend.ConnectionState);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(5));
    }
}
