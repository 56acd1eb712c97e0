using System.Collections.Concurrent;
using System.Security.Cryptography;
using EnvelopeKms.CustomKeyStores;
using EnvelopeKms.Storage;
using EnvelopeKms.Tests.Infrastructure;
using EnvelopeKms.Tests.KeyManagement;

namespace EnvelopeKms.Tests.CustomKeyStores;

/// <summary>Names, credentials and a key manager with an in-process XKS proxy and a fake HSM cluster registered.</summary>
internal sealed class CustomKeyStoreFixture : IDisposable
{
    public const string Endpoint = "https://xks.example.com";
    public const string UriPath = "/example/kms/xks/v1";
    public const string AccessKeyId = "ABCDEFGHIJKLMNOPQRST";
    public const string Secret = "c2VjcmV0LXhrcy1wcm94eS1hY2Nlc3Mta2V5LTAxMjM0NQ==";
    public const string ClusterId = "cluster-1a23b4cdefg";
    public const string Password = "kmsuser-pass-1";
    public const string ExternalKeyId = "external-key-1";

    /// <param name="xksTimeout">The XKS call budget: 10 s by default, so that a loaded test machine does not time out; the timeout tests pass a short one.</param>
    public CustomKeyStoreFixture(TestKeyManager? kms = null, InProcessExternalKeyStoreProxy? proxy = null, FakeHsm? hsm = null, TimeSpan? xksTimeout = null)
    {
        XksTimeout = xksTimeout ?? TimeSpan.FromSeconds(10);
        Kms = kms ?? new TestKeyManager();
        Proxy = proxy ?? new InProcessExternalKeyStoreProxy(AccessKeyId, Secret);
        Hsm = hsm ?? new FakeHsm(Password);
        Register(Kms.Manager);
        if (proxy is null)
        {
            Proxy.CreateKey(ExternalKeyId);
        }
    }

    public TestKeyManager Kms { get; }

    public TimeSpan XksTimeout { get; }

    public InProcessExternalKeyStoreProxy Proxy { get; }

    public FakeHsm Hsm { get; }

    public IKeyManager Api => Kms.Manager;

    public void Register(KeyManager manager)
    {
        manager.CustomKeyStoreBackends.AddExternalKeyStoreProxy(Endpoint, UriPath, Proxy, new ExternalKeyStoreBackendOptions { Timeout = XksTimeout });
        manager.CustomKeyStoreBackends.AddCloudHsmCluster(ClusterId, context => Hsm.Connect(context.Credential));
    }

    /// <summary>A new key manager on the same store and root key (a restart), with the same backends registered.</summary>
    public CustomKeyStoreFixture Restart() => new(new TestKeyManager(Kms.Store, Kms.RootKey), Proxy, Hsm, XksTimeout);

    public static XksProxyAuthenticationCredential Credential(string? secret = null) => new() { AccessKeyId = AccessKeyId, RawSecretAccessKey = secret ?? Secret };

    public async Task<string> CreateXksStoreAsync(string name = "xks", bool connect = true)
    {
        var id = (await Api.CreateCustomKeyStoreAsync(new CreateCustomKeyStoreRequest
        {
            CustomKeyStoreName = name,
            CustomKeyStoreType = CustomKeyStoreType.ExternalKeyStore,
            XksProxyUriEndpoint = Endpoint,
            XksProxyUriPath = UriPath,
            XksProxyConnectivity = XksProxyConnectivityType.PublicEndpoint,
            XksProxyAuthenticationCredential = Credential(),
        }, KeyManagement.Kms.Ct)).CustomKeyStoreId;
        if (connect)
        {
            await ConnectAsync(id);
        }

        return id;
    }

    public async Task<string> CreateHsmStoreAsync(string name = "hsm", bool connect = true, string password = Password)
    {
        var id = (await Api.CreateCustomKeyStoreAsync(new CreateCustomKeyStoreRequest
        {
            CustomKeyStoreName = name,
            CloudHsmClusterId = ClusterId,
            TrustAnchorCertificate = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
            KeyStorePassword = password,
        }, KeyManagement.Kms.Ct)).CustomKeyStoreId;
        if (connect)
        {
            await ConnectAsync(id);
        }

        return id;
    }

    public async Task<ConnectCustomKeyStoreResponse> ConnectAsync(string id)
        => await Api.ConnectCustomKeyStoreAsync(new ConnectCustomKeyStoreRequest { CustomKeyStoreId = id }, KeyManagement.Kms.Ct);

    public Task DisconnectAsync(string id)
        => Api.DisconnectCustomKeyStoreAsync(new DisconnectCustomKeyStoreRequest { CustomKeyStoreId = id }, KeyManagement.Kms.Ct);

    public async Task<CustomKeyStoreEntry> DescribeStoreAsync(string id)
        => Assert.Single((await Api.DescribeCustomKeyStoresAsync(new DescribeCustomKeyStoresRequest { CustomKeyStoreId = id }, KeyManagement.Kms.Ct)).Items);

    public async Task<KeyMetadata> CreateXksKeyAsync(string storeId, string externalKeyId = ExternalKeyId)
        => (await Api.CreateKeyAsync(new CreateKeyRequest { CustomKeyStoreId = storeId, Origin = KeyOrigin.ExternalKeyStore, XksKeyId = externalKeyId, Description = "xks key" }, KeyManagement.Kms.Ct)).KeyMetadata;

    public async Task<KeyMetadata> CreateHsmKeyAsync(string storeId)
        => (await Api.CreateKeyAsync(new CreateKeyRequest { CustomKeyStoreId = storeId, Origin = KeyOrigin.AwsCloudHsm, Description = "hsm key" }, KeyManagement.Kms.Ct)).KeyMetadata;

    public async Task<CustomKeyStoreRecord> StoredRecordAsync(string id)
        => (await ((ICustomKeyStoreRecordStore)Kms.Store).GetCustomKeyStoreAsync(id, KeyManagement.Kms.Ct))!;

    public void Dispose()
    {
        Kms.Dispose();
    }
}

/// <summary>
/// A fake HSM for the core tests: AES-256-GCM keys in memory behind a password, with the backend contract of an HSM key
/// store (keys created inside, never exported). The real one is the PKCS#11 backend, tested against SoftHSM2.
/// </summary>
internal sealed class FakeHsm(string password)
{
    public ConcurrentDictionary<string, byte[]> Keys { get; } = new();

    public string Password { get; } = password;

    public bool Reachable { get; set; } = true;

    public ICustomKeyStoreBackend Connect(string credential) => new Backend(this, credential);

    private sealed class Backend(FakeHsm hsm, string credential) : ICustomKeyStoreBackend
    {
        public CustomKeyStoreType StoreType => CustomKeyStoreType.AwsCloudHsm;

        public CustomKeyStoreConnectionState ConnectionState { get; private set; } = CustomKeyStoreConnectionState.Disconnected;

        public CustomKeyStoreConnectionErrorCode? ConnectionErrorCode { get; private set; }

        public ValueTask ConnectAsync(CancellationToken cancellationToken)
        {
            var code = !hsm.Reachable ? CustomKeyStoreConnectionErrorCode.ClusterNotFound
                : credential != hsm.Password ? CustomKeyStoreConnectionErrorCode.InvalidCredentials
                : (CustomKeyStoreConnectionErrorCode?)null;
            if (code is { } failed)
            {
                (ConnectionState, ConnectionErrorCode) = (CustomKeyStoreConnectionState.Failed, failed);
                throw new KmsCustomKeyStoreInvalidStateException("The fake HSM refused the connection.", CustomKeyStoreConnectionState.Failed, failed);
            }

            ConnectionState = CustomKeyStoreConnectionState.Connected;
            return ValueTask.CompletedTask;
        }

        public ValueTask DisconnectAsync(CancellationToken cancellationToken)
        {
            ConnectionState = CustomKeyStoreConnectionState.Disconnected;
            return ValueTask.CompletedTask;
        }

        public ValueTask<CustomKeyStoreHealth> CheckHealthAsync(CancellationToken cancellationToken)
            => ValueTask.FromResult(new CustomKeyStoreHealth { ConnectionState = ConnectionState, Healthy = ConnectionState == CustomKeyStoreConnectionState.Connected });

        public ValueTask<CustomKeyStoreBackendKey> CreateKeyAsync(string kmsKeyId, CancellationToken cancellationToken)
        {
            Require();
            var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
            hsm.Keys[id] = RandomNumberGenerator.GetBytes(32);
            return ValueTask.FromResult(new CustomKeyStoreBackendKey { BackendKeyId = id, KmsKeyId = kmsKeyId, KeySizeBits = 256, MaterialNeverLeftBackend = true });
        }

        public ValueTask<CustomKeyStoreBackendKey> DescribeKeyAsync(string backendKeyId, CancellationToken cancellationToken)
            => ValueTask.FromResult(new CustomKeyStoreBackendKey { BackendKeyId = backendKeyId, KeySizeBits = 256 });

        public ValueTask<CustomKeyStoreCiphertext> EncryptAsync(string backendKeyId, ReadOnlyMemory<byte> plaintext, ReadOnlyMemory<byte> additionalAuthenticatedData, CancellationToken cancellationToken)
        {
            var key = Key(backendKeyId);
            var iv = RandomNumberGenerator.GetBytes(12);
            var ciphertext = new byte[plaintext.Length];
            var tag = new byte[16];
            using var aes = new AesGcm(key, 16);
            aes.Encrypt(iv, plaintext.Span, ciphertext, tag, additionalAuthenticatedData.Span);
            return ValueTask.FromResult(new CustomKeyStoreCiphertext(iv, ciphertext, tag));
        }

        public ValueTask<byte[]> DecryptAsync(string backendKeyId, CustomKeyStoreCiphertext ciphertext, ReadOnlyMemory<byte> additionalAuthenticatedData, CancellationToken cancellationToken)
        {
            var key = Key(backendKeyId);
            var plaintext = new byte[ciphertext.Ciphertext.Length];
            using var aes = new AesGcm(key, 16);
            try
            {
                aes.Decrypt(ciphertext.Iv.Span, ciphertext.Ciphertext.Span, ciphertext.Tag.Span, plaintext, additionalAuthenticatedData.Span);
            }
            catch (AuthenticationTagMismatchException e)
            {
                throw new KmsInvalidCiphertextException("The ciphertext does not authenticate.", e);
            }

            return ValueTask.FromResult(plaintext);
        }

        public ValueTask DeleteKeyAsync(string backendKeyId, CancellationToken cancellationToken)
        {
            Require();
            hsm.Keys.TryRemove(backendKeyId, out _);
            return ValueTask.CompletedTask;
        }

        public ValueTask DisposeAsync()
        {
            ConnectionState = CustomKeyStoreConnectionState.Disconnected;
            return ValueTask.CompletedTask;
        }

        private byte[] Key(string backendKeyId)
        {
            Require();
            return hsm.Keys.TryGetValue(backendKeyId, out var key) ? key : throw new KmsInvalidStateException("No such HSM key.");
        }

        private void Require()
        {
            if (ConnectionState != CustomKeyStoreConnectionState.Connected)
            {
                throw new KmsCustomKeyStoreInvalidStateException("Not connected.", ConnectionState, ConnectionErrorCode);
            }
        }
    }
}
