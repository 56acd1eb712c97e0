using System.Text;
using System.Text.Json;
using EnvelopeKms.CustomKeyStores;
using EnvelopeKms.Storage;
using EnvelopeKms.Tests.KeyManagement;

namespace EnvelopeKms.Tests.CustomKeyStores;

/// <summary>The six custom key store operations: their lifecycle, their errors as AWS KMS names them, and restarts.</summary>
public sealed class CustomKeyStoreLifecycleTests
{
    [Fact]
    public async Task An_external_key_store_is_created_disconnected_then_connects_and_disconnects()
    {
        using var f = new CustomKeyStoreFixture();
        var id = await f.CreateXksStoreAsync(connect: false);

        Assert.Matches("^cks-[0-9a-f]{17}$", id);
        var created = await f.DescribeStoreAsync(id);
        Assert.Equal(CustomKeyStoreConnectionState.Disconnected, created.ConnectionState);
        Assert.Equal(CustomKeyStoreType.ExternalKeyStore, created.CustomKeyStoreType);
        Assert.Equal("xks", created.CustomKeyStoreName);
        Assert.Equal(f.Kms.Clock.GetUtcNow(), created.CreationDate);
        Assert.Equal(CustomKeyStoreFixture.Endpoint, created.XksProxyConfiguration!.UriEndpoint);
        Assert.Equal(CustomKeyStoreFixture.UriPath, created.XksProxyConfiguration.UriPath);
        Assert.Equal(CustomKeyStoreFixture.AccessKeyId, created.XksProxyConfiguration.AccessKeyId);
        Assert.Equal(XksProxyConnectivityType.PublicEndpoint, created.XksProxyConfiguration.Connectivity);

        var connected = await f.ConnectAsync(id);
        Assert.Equal(CustomKeyStoreConnectionState.Connected, connected.ConnectionState);
        Assert.Equal(CustomKeyStoreConnectionState.Connected, (await f.DescribeStoreAsync(id)).ConnectionState);
        Assert.Equal(CustomKeyStoreConnectionState.Connected, (await f.StoredRecordAsync(id)).ConnectionState);

        // Connecting a connected store succeeds and changes nothing.
        Assert.Equal(CustomKeyStoreConnectionState.Connected, (await f.ConnectAsync(id)).ConnectionState);

        await f.DisconnectAsync(id);
        Assert.Equal(CustomKeyStoreConnectionState.Disconnected, (await f.DescribeStoreAsync(id)).ConnectionState);
        var again = await Assert.ThrowsAsync<KmsCustomKeyStoreInvalidStateException>(() => f.DisconnectAsync(id));
        Assert.Equal("CustomKeyStoreInvalidStateException", again.ErrorCode);
    }

    [Fact]
    public async Task An_hsm_key_store_connects_with_its_password_and_a_wrong_one_fails_with_INVALID_CREDENTIALS()
    {
        using var f = new CustomKeyStoreFixture();
        var id = await f.CreateHsmStoreAsync(connect: false, password: "not-the-pin");
        var entry = await f.DescribeStoreAsync(id);
        Assert.Equal(CustomKeyStoreFixture.ClusterId, entry.CloudHsmClusterId);
        Assert.StartsWith("-----BEGIN CERTIFICATE-----", entry.TrustAnchorCertificate, StringComparison.Ordinal);
        Assert.Null(entry.XksProxyConfiguration);

        var failed = await f.ConnectAsync(id);

        Assert.Equal(CustomKeyStoreConnectionState.Failed, failed.ConnectionState);
        Assert.Equal(CustomKeyStoreConnectionErrorCode.InvalidCredentials, failed.ConnectionErrorCode);
        var described = await f.DescribeStoreAsync(id);
        Assert.Equal(CustomKeyStoreConnectionState.Failed, described.ConnectionState);
        Assert.Equal(CustomKeyStoreConnectionErrorCode.InvalidCredentials, described.ConnectionErrorCode);

        // A FAILED store must be disconnected before it connects again, and a password can change only then.
        var e = await Assert.ThrowsAsync<KmsCustomKeyStoreInvalidStateException>(() => f.ConnectAsync(id));
        Assert.Equal(CustomKeyStoreConnectionState.Failed, e.ConnectionState);
        await Assert.ThrowsAsync<KmsCustomKeyStoreInvalidStateException>(() =>
            f.Api.UpdateCustomKeyStoreAsync(new UpdateCustomKeyStoreRequest { CustomKeyStoreId = id, KeyStorePassword = CustomKeyStoreFixture.Password }, Kms.Ct));
        await f.DisconnectAsync(id);
        await f.Api.UpdateCustomKeyStoreAsync(new UpdateCustomKeyStoreRequest { CustomKeyStoreId = id, KeyStorePassword = CustomKeyStoreFixture.Password }, Kms.Ct);
        Assert.Equal(CustomKeyStoreConnectionState.Connected, (await f.ConnectAsync(id)).ConnectionState);
    }

    [Fact]
    public async Task Creation_errors_have_the_aws_kms_names()
    {
        using var f = new CustomKeyStoreFixture();
        await f.CreateXksStoreAsync("taken", connect: false);
        var km = f.Api;

        Task Create(CreateCustomKeyStoreRequest request) => km.CreateCustomKeyStoreAsync(request, Kms.Ct);
        CreateCustomKeyStoreRequest Xks(string name, string? endpoint = null, string? path = null, XksProxyAuthenticationCredential? credential = null) => new()
        {
            CustomKeyStoreName = name,
            CustomKeyStoreType = CustomKeyStoreType.ExternalKeyStore,
            XksProxyUriEndpoint = endpoint ?? CustomKeyStoreFixture.Endpoint,
            XksProxyUriPath = path ?? CustomKeyStoreFixture.UriPath,
            XksProxyConnectivity = XksProxyConnectivityType.PublicEndpoint,
            XksProxyAuthenticationCredential = credential ?? CustomKeyStoreFixture.Credential(),
        };

        await Assert.ThrowsAsync<KmsCustomKeyStoreNameInUseException>(() => Create(Xks("taken")));
        await Assert.ThrowsAsync<KmsXksProxyUriInUseException>(() => Create(Xks("second")));
        await Assert.ThrowsAsync<KmsXksProxyUriUnreachableException>(() => Create(Xks("unregistered", endpoint: "https://other.example.com")));
        await Assert.ThrowsAsync<KmsValidationException>(() => Create(Xks("bad path", path: "/kms/xks/v2")));
        await Assert.ThrowsAsync<KmsValidationException>(() => Create(Xks("bad endpoint", endpoint: "http://xks.example.com")));
        await Assert.ThrowsAsync<KmsValidationException>(() => Create(Xks("short secret", credential: CustomKeyStoreFixture.Credential("short"))));
        await Assert.ThrowsAsync<KmsValidationException>(() => Create(new CreateCustomKeyStoreRequest { CustomKeyStoreName = "", CloudHsmClusterId = "c", KeyStorePassword = "1234567" }));
        await Assert.ThrowsAsync<KmsValidationException>(() => Create(new CreateCustomKeyStoreRequest { CustomKeyStoreName = "no password", CloudHsmClusterId = CustomKeyStoreFixture.ClusterId }));
        await Assert.ThrowsAsync<KmsValidationException>(() => Create(new CreateCustomKeyStoreRequest { CustomKeyStoreName = "short password", CloudHsmClusterId = CustomKeyStoreFixture.ClusterId, KeyStorePassword = "123456" }));
        await Assert.ThrowsAsync<KmsCloudHsmClusterNotFoundException>(() => Create(new CreateCustomKeyStoreRequest { CustomKeyStoreName = "no cluster", CloudHsmClusterId = "cluster-missing0000", KeyStorePassword = "1234567" }));
        await f.CreateHsmStoreAsync(connect: false);
        await Assert.ThrowsAsync<KmsCloudHsmClusterInUseException>(() => f.CreateHsmStoreAsync("hsm2", connect: false));

        // The proxy is checked at creation: a wrong secret and an unreachable proxy fail with KMS's errors.
        await f.Api.DeleteCustomKeyStoreAsync(new DeleteCustomKeyStoreRequest { CustomKeyStoreId = (await f.Api.DescribeCustomKeyStoresAsync(new DescribeCustomKeyStoresRequest { CustomKeyStoreName = "taken" }, Kms.Ct)).Items[0].CustomKeyStoreId }, Kms.Ct);
        await Assert.ThrowsAsync<KmsXksProxyIncorrectAuthenticationCredentialException>(() => Create(Xks("wrong secret", credential: CustomKeyStoreFixture.Credential(new string('A', 44)))));
        f.Proxy.Faults.Unreachable = true;
        await Assert.ThrowsAsync<KmsXksProxyUriUnreachableException>(() => Create(Xks("unreachable")));
        f.Proxy.Faults.Clear();
        Assert.NotNull(await km.CreateCustomKeyStoreAsync(Xks("fine"), Kms.Ct));
    }

    [Fact]
    public async Task Describe_finds_stores_by_id_and_name_and_pages_through_all_of_them()
    {
        using var f = new CustomKeyStoreFixture();
        var hsm = await f.CreateHsmStoreAsync("a", connect: false);
        var xks = await f.CreateXksStoreAsync("b", connect: false);
        var km = f.Api;

        var byName = await km.DescribeCustomKeyStoresAsync(new DescribeCustomKeyStoresRequest { CustomKeyStoreName = "b" }, Kms.Ct);
        Assert.Equal(xks, Assert.Single(byName.Items).CustomKeyStoreId);
        var first = await km.DescribeCustomKeyStoresAsync(new DescribeCustomKeyStoresRequest { Limit = 1 }, Kms.Ct);
        var second = await km.DescribeCustomKeyStoresAsync(new DescribeCustomKeyStoresRequest { Limit = 1, Marker = first.NextMarker }, Kms.Ct);
        Assert.True(first.Truncated);
        Assert.False(second.Truncated);
        Assert.Equal(new[] { hsm, xks }.Order(StringComparer.Ordinal), first.Items.Concat(second.Items).Select(e => e.CustomKeyStoreId));

        await Assert.ThrowsAsync<KmsCustomKeyStoreNotFoundException>(() => km.DescribeCustomKeyStoresAsync(new DescribeCustomKeyStoresRequest { CustomKeyStoreName = "missing" }, Kms.Ct));
        await Assert.ThrowsAsync<KmsCustomKeyStoreNotFoundException>(() => km.DescribeCustomKeyStoresAsync(new DescribeCustomKeyStoresRequest { CustomKeyStoreId = "cks-0123456789abcdef0" }, Kms.Ct));
        await Assert.ThrowsAsync<KmsCustomKeyStoreNotFoundException>(() => f.ConnectAsync("not-an-id"));
        await Assert.ThrowsAsync<KmsValidationException>(() => km.DescribeCustomKeyStoresAsync(new DescribeCustomKeyStoresRequest { CustomKeyStoreId = hsm, CustomKeyStoreName = "a" }, Kms.Ct));
        await Assert.ThrowsAsync<KmsInvalidMarkerException>(() => km.DescribeCustomKeyStoresAsync(new DescribeCustomKeyStoresRequest { Marker = "!!" }, Kms.Ct));
    }

    [Fact]
    public async Task Only_the_name_changes_while_connected_and_names_stay_unique()
    {
        using var f = new CustomKeyStoreFixture();
        var id = await f.CreateXksStoreAsync("one");
        await f.CreateHsmStoreAsync("two", connect: false);
        var km = f.Api;

        await km.UpdateCustomKeyStoreAsync(new UpdateCustomKeyStoreRequest { CustomKeyStoreId = id, NewCustomKeyStoreName = "renamed" }, Kms.Ct);
        Assert.Equal("renamed", (await f.DescribeStoreAsync(id)).CustomKeyStoreName);
        await Assert.ThrowsAsync<KmsCustomKeyStoreNameInUseException>(() => km.UpdateCustomKeyStoreAsync(new UpdateCustomKeyStoreRequest { CustomKeyStoreId = id, NewCustomKeyStoreName = "two" }, Kms.Ct));
        await Assert.ThrowsAsync<KmsCustomKeyStoreInvalidStateException>(() => km.UpdateCustomKeyStoreAsync(new UpdateCustomKeyStoreRequest { CustomKeyStoreId = id, XksProxyAuthenticationCredential = CustomKeyStoreFixture.Credential() }, Kms.Ct));
        await Assert.ThrowsAsync<KmsValidationException>(() => km.UpdateCustomKeyStoreAsync(new UpdateCustomKeyStoreRequest { CustomKeyStoreId = id, KeyStorePassword = "1234567" }, Kms.Ct));
        await Assert.ThrowsAsync<KmsValidationException>(() => km.UpdateCustomKeyStoreAsync(new UpdateCustomKeyStoreRequest { CustomKeyStoreId = id }, Kms.Ct));

        await f.DisconnectAsync(id);
        await Assert.ThrowsAsync<KmsXksProxyIncorrectAuthenticationCredentialException>(() =>
            km.UpdateCustomKeyStoreAsync(new UpdateCustomKeyStoreRequest { CustomKeyStoreId = id, XksProxyAuthenticationCredential = CustomKeyStoreFixture.Credential(new string('B', 44)) }, Kms.Ct));
        await km.UpdateCustomKeyStoreAsync(new UpdateCustomKeyStoreRequest { CustomKeyStoreId = id, XksProxyAuthenticationCredential = CustomKeyStoreFixture.Credential() }, Kms.Ct);
        Assert.Equal(CustomKeyStoreConnectionState.Connected, (await f.ConnectAsync(id)).ConnectionState);
    }

    [Fact]
    public async Task A_store_is_deleted_only_disconnected_and_without_keys()
    {
        using var f = new CustomKeyStoreFixture();
        var id = await f.CreateXksStoreAsync();
        var key = await f.CreateXksKeyAsync(id);
        var km = f.Api;
        Task Delete() => km.DeleteCustomKeyStoreAsync(new DeleteCustomKeyStoreRequest { CustomKeyStoreId = id }, Kms.Ct);

        await Assert.ThrowsAsync<KmsCustomKeyStoreInvalidStateException>(Delete);
        await f.DisconnectAsync(id);
        var e = await Assert.ThrowsAsync<KmsCustomKeyStoreHasKeysException>(Delete);
        Assert.Equal("CustomKeyStoreHasCMKsException", e.ErrorCode);

        // A key pending deletion still counts, until its waiting period ends.
        await km.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = key.KeyId, PendingWindowInDays = 7 }, Kms.Ct);
        await Assert.ThrowsAsync<KmsCustomKeyStoreHasKeysException>(Delete);
        f.Kms.Clock.Advance(TimeSpan.FromDays(7) + TimeSpan.FromSeconds(1));
        await Delete();

        await Assert.ThrowsAsync<KmsCustomKeyStoreNotFoundException>(() => f.DescribeStoreAsync(id));
        Assert.Null(await ((ICustomKeyStoreRecordStore)f.Kms.Store).GetCustomKeyStoreAsync(id, Kms.Ct));
    }

    [Fact]
    public async Task A_restart_reconnects_the_stores_recorded_as_connected_and_leaves_the_others()
    {
        using var f = new CustomKeyStoreFixture();
        var connected = await f.CreateXksStoreAsync("connected");
        var disconnected = await f.CreateHsmStoreAsync("disconnected", connect: false);
        var key = await f.CreateXksKeyAsync(connected);
        var blob = await f.Api.EncryptBlobAsync(key.KeyId, Kms.Utf8("before the restart"));

        using var restarted = f.Restart();

        Assert.Equal(CustomKeyStoreConnectionState.Connected, (await restarted.DescribeStoreAsync(connected)).ConnectionState);
        Assert.Equal(CustomKeyStoreConnectionState.Disconnected, (await restarted.DescribeStoreAsync(disconnected)).ConnectionState);
        Assert.Equal("before the restart", Encoding.UTF8.GetString(await restarted.Api.DecryptBlobAsync(blob)));
    }

    [Theory]
    [InlineData("file")]
    [InlineData("sqlite")]
    public async Task A_new_process_on_a_durable_store_finds_the_custom_key_stores_reconnects_and_decrypts(string storeKind)
    {
        var directory = Directory.CreateTempSubdirectory("envelopekms-cks-");
        try
        {
            IKeyStore Open() => storeKind == "file"
                ? new FileSystemKeyStore(Path.Combine(directory.FullName, "store"))
                : new EnvelopeKms.Storage.Sqlite.SqliteKeyStore(Path.Combine(directory.FullName, "keys.db"));
            var rootKey = new EnvelopeKms.Protection.StaticRootKeyProvider(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());
            string connected, disconnected;
            byte[] xksBlob, hsmBlob;
            using (var f = new CustomKeyStoreFixture(new EnvelopeKms.Tests.Infrastructure.TestKeyManager(Open(), rootKey)))
            {
                connected = await f.CreateXksStoreAsync("connected");
                disconnected = await f.CreateHsmStoreAsync("hsm");
                var xksKey = await f.CreateXksKeyAsync(connected);
                var hsmKey = (await f.Api.CreateKeyAsync(new CreateKeyRequest { Origin = KeyOrigin.AwsCloudHsm, CustomKeyStoreId = disconnected }, Kms.Ct)).KeyMetadata;
                xksBlob = await f.Api.EncryptBlobAsync(xksKey.KeyId, Kms.Utf8("external"));
                hsmBlob = await f.Api.EncryptBlobAsync(hsmKey.KeyId, Kms.Utf8("hsm"));
                await f.Api.DisconnectCustomKeyStoreAsync(new DisconnectCustomKeyStoreRequest { CustomKeyStoreId = disconnected }, Kms.Ct);
                Assert.Equal(KeyState.Unavailable, (await f.Api.DescribeAsync(hsmKey.KeyId)).KeyState);

                // A second key manager on a store instance of its own: the process after a restart.
                using var restarted = new CustomKeyStoreFixture(new EnvelopeKms.Tests.Infrastructure.TestKeyManager(Open(), rootKey), f.Proxy, f.Hsm);
                Assert.Equal(CustomKeyStoreConnectionState.Connected, (await restarted.DescribeStoreAsync(connected)).ConnectionState);
                Assert.Equal(CustomKeyStoreConnectionState.Disconnected, (await restarted.DescribeStoreAsync(disconnected)).ConnectionState);
                Assert.Equal("external", Encoding.UTF8.GetString(await restarted.Api.DecryptBlobAsync(xksBlob)));
                Assert.Equal(KeyState.Unavailable, (await restarted.Api.DescribeAsync(hsmKey.KeyId)).KeyState);

                await restarted.Api.ConnectCustomKeyStoreAsync(new ConnectCustomKeyStoreRequest { CustomKeyStoreId = disconnected }, Kms.Ct);
                Assert.Equal("hsm", Encoding.UTF8.GetString(await restarted.Api.DecryptBlobAsync(hsmBlob)));
                Assert.Equal(KeyState.Enabled, (await restarted.Api.DescribeAsync(hsmKey.KeyId)).KeyState);
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task A_restart_whose_proxy_is_gone_reports_FAILED_and_its_keys_Unavailable()
    {
        using var f = new CustomKeyStoreFixture();
        var id = await f.CreateXksStoreAsync();
        var key = await f.CreateXksKeyAsync(id);
        f.Proxy.Faults.Unreachable = true;

        using var restarted = f.Restart();

        Assert.Equal(KeyState.Unavailable, (await restarted.Api.DescribeAsync(key.KeyId)).KeyState);
        var entry = await restarted.DescribeStoreAsync(id);
        Assert.Equal(CustomKeyStoreConnectionState.Failed, entry.ConnectionState);
        Assert.Equal(CustomKeyStoreConnectionErrorCode.XksProxyNotReachable, entry.ConnectionErrorCode);
    }

    [Fact]
    public async Task Secrets_never_reach_records_audit_parameters_exceptions_or_strings()
    {
        using var f = new CustomKeyStoreFixture();
        var xks = await f.CreateXksStoreAsync();
        var hsm = await f.CreateHsmStoreAsync(connect: false, password: "wrong-password-7");
        await f.ConnectAsync(hsm);
        await f.DisconnectAsync(hsm);
        await f.Api.UpdateCustomKeyStoreAsync(new UpdateCustomKeyStoreRequest { CustomKeyStoreId = hsm, KeyStorePassword = CustomKeyStoreFixture.Password }, Kms.Ct);
        await f.DisconnectAsync(xks);
        var failure = await Assert.ThrowsAsync<KmsXksProxyIncorrectAuthenticationCredentialException>(() =>
            f.Api.UpdateCustomKeyStoreAsync(new UpdateCustomKeyStoreRequest { CustomKeyStoreId = xks, XksProxyAuthenticationCredential = CustomKeyStoreFixture.Credential(new string('C', 44)) }, Kms.Ct));

        string[] secrets = [CustomKeyStoreFixture.Secret, CustomKeyStoreFixture.Password, "wrong-password-7", new string('C', 44)];
        var texts = new List<string>
        {
            JsonSerializer.Serialize(await f.StoredRecordAsync(xks)),
            JsonSerializer.Serialize(await f.StoredRecordAsync(hsm)),
            Encoding.UTF8.GetString((await f.StoredRecordAsync(xks)).WrappedCredential!),
            Convert.ToBase64String((await f.StoredRecordAsync(hsm)).WrappedCredential!),
            failure.ToString(),
            CustomKeyStoreFixture.Credential().ToString(),
            new CreateCustomKeyStoreRequest { CustomKeyStoreName = "x", KeyStorePassword = CustomKeyStoreFixture.Password }.ToString()!,
        };
        texts.AddRange(f.Kms.Audit.Events.Select(e => JsonSerializer.Serialize(e.RequestParameters) + e.AuthorizationSummary + e.ErrorCode));

        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(texts, text => text.Contains(secret, StringComparison.Ordinal));
        }

        var create = f.Kms.Audit.Events.First(e => e.Operation == KmsOperation.CreateCustomKeyStore);
        Assert.Equal(
            "{\"customKeyStoreName\":\"xks\",\"customKeyStoreType\":\"EXTERNAL_KEY_STORE\",\"xksProxyUriEndpoint\":\"https://xks.example.com\",\"xksProxyUriPath\":\"/example/kms/xks/v1\",\"xksProxyConnectivity\":\"PUBLIC_ENDPOINT\"}",
            JsonSerializer.Serialize(create.RequestParameters));
    }

    [Fact]
    public async Task A_key_store_without_custom_key_store_records_refuses_the_operations()
    {
        using var kms = new Infrastructure.TestKeyManager(new Infrastructure.DelegatingKeyStore(new InMemoryKeyStore()));

        await Assert.ThrowsAsync<KmsUnsupportedOperationException>(() => kms.Api().DescribeCustomKeyStoresAsync(new DescribeCustomKeyStoresRequest(), Kms.Ct));
    }
}
