using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace EnvelopeKms.CustomKeyStores;

/// <summary>Faults an <see cref="InProcessExternalKeyStoreProxy"/> injects, to test how KMS callers see a misbehaving proxy. Settable at any time.</summary>
public sealed class XksProxyFaults
{
    /// <summary>A delay before every answer (beyond the backend's timeout, the call times out).</summary>
    public TimeSpan Latency { get; set; }

    /// <summary>Every call fails as if the proxy could not be reached.</summary>
    public bool Unreachable { get; set; }

    /// <summary><c>GetHealthStatus</c> reports no active external key manager.</summary>
    public bool Unhealthy { get; set; }

    /// <summary>Every call fails with this XKS error.</summary>
    public XksErrorName? FailWith { get; set; }

    /// <summary>Encrypt and Decrypt use this external key instead of the one named (a proxy pointing at the wrong key).</summary>
    public string? WrongKeyId { get; set; }

    /// <summary>Encrypt returns a truncated tag and Decrypt a plaintext one byte short (a proxy whose responses break the contract).</summary>
    public bool CorruptResponses { get; set; }

    /// <summary>Decrypt returns the plaintext with its first byte flipped (a proxy that answers wrongly but well-formed).</summary>
    public bool FlipPlaintext { get; set; }

    /// <summary>Clears every fault.</summary>
    public void Clear()
    {
        Latency = TimeSpan.Zero;
        Unreachable = Unhealthy = CorruptResponses = FlipPlaintext = false;
        FailWith = null;
        WrongKeyId = null;
    }
}

/// <summary>
/// An external key store proxy and external key manager in one, in memory: AES-256 keys held in pinned arrays, AES-GCM
/// (from the platform), a credential check on every call, and configurable <see cref="Faults"/>. For tests, samples and
/// development; its keys vanish with it. Safe for concurrent use.
/// </summary>
public sealed class InProcessExternalKeyStoreProxy : IExternalKeyStoreProxy, IDisposable
{
    private readonly ConcurrentDictionary<string, ExternalKey> _keys = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<XksRequestMetadata> _requests = new();
    private readonly byte[] _accessKeyId;
    private readonly byte[] _secret;
    private readonly TimeProvider _time;

    /// <summary>Creates a proxy that accepts one credential.</summary>
    public InProcessExternalKeyStoreProxy(string accessKeyId, string secretAccessKey, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(accessKeyId);
        ArgumentException.ThrowIfNullOrEmpty(secretAccessKey);
        _accessKeyId = Encoding.UTF8.GetBytes(accessKeyId);
        _secret = Encoding.UTF8.GetBytes(secretAccessKey);
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>The faults to inject.</summary>
    public XksProxyFaults Faults { get; } = new();

    /// <summary>The request metadata of every call that passed authentication, oldest first.</summary>
    public IReadOnlyList<XksRequestMetadata> Requests => [.. _requests];

    /// <summary>Creates an external key (AES-256 by default, enabled, for ENCRYPT and DECRYPT) with fresh random material.</summary>
    public void CreateKey(string externalKeyId, string keySpec = "AES_256", IReadOnlyList<string>? keyUsage = null, bool enabled = true)
    {
        ArgumentException.ThrowIfNullOrEmpty(externalKeyId);
        var material = GC.AllocateArray<byte>(32, pinned: true);
        RandomNumberGenerator.Fill(material);
        if (!_keys.TryAdd(externalKeyId, new ExternalKey(material, keySpec, keyUsage ?? ["ENCRYPT", "DECRYPT"]) { Enabled = enabled }))
        {
            CryptographicOperations.ZeroMemory(material);
            throw new InvalidOperationException($"The external key '{externalKeyId}' exists.");
        }
    }

    /// <summary>Enables or disables an external key.</summary>
    public void SetKeyEnabled(string externalKeyId, bool enabled) => Key(externalKeyId).Enabled = enabled;

    /// <summary>Deletes an external key (its material is zeroed).</summary>
    public void DeleteKey(string externalKeyId)
    {
        if (_keys.TryRemove(externalKeyId, out var key))
        {
            CryptographicOperations.ZeroMemory(key.Material);
        }
    }

    /// <inheritdoc />
    public async ValueTask<XksHealthStatus> GetHealthStatusAsync(XksProxyCredential credential, XksRequestMetadata metadata, CancellationToken cancellationToken)
    {
        await EnterAsync(credential, metadata, cancellationToken).ConfigureAwait(false);
        return new XksHealthStatus { XksProxyVendor = "EnvelopeKms in-process XKS proxy", Active = !Faults.Unhealthy };
    }

    /// <inheritdoc />
    public async ValueTask<XksKeyMetadata> GetKeyMetadataAsync(string externalKeyId, XksProxyCredential credential, XksRequestMetadata metadata, CancellationToken cancellationToken)
    {
        await EnterAsync(credential, metadata, cancellationToken).ConfigureAwait(false);
        var key = Key(externalKeyId);
        return new XksKeyMetadata { KeySpec = key.KeySpec, KeyUsage = key.KeyUsage, KeyStatus = key.Enabled ? "ENABLED" : "DISABLED" };
    }

    /// <inheritdoc />
    public async ValueTask<XksEncryptResult> EncryptAsync(string externalKeyId, ReadOnlyMemory<byte> plaintext, ReadOnlyMemory<byte> additionalAuthenticatedData, XksProxyCredential credential, XksRequestMetadata metadata, CancellationToken cancellationToken)
    {
        await EnterAsync(credential, metadata, cancellationToken).ConfigureAwait(false);
        var key = Usable(Faults.WrongKeyId ?? externalKeyId, "ENCRYPT");
        var iv = RandomNumberGenerator.GetBytes(CustomKeyStoreCiphertext.IvSize);
        var ciphertext = new byte[plaintext.Length];
        var tag = new byte[CustomKeyStoreCiphertext.TagSize];
        using (var aes = new AesGcm(key.Material, CustomKeyStoreCiphertext.TagSize))
        {
            aes.Encrypt(iv, plaintext.Span, ciphertext, tag, additionalAuthenticatedData.Span);
        }

        return new XksEncryptResult { Ciphertext = ciphertext, InitializationVector = iv, AuthenticationTag = Faults.CorruptResponses ? tag.AsMemory(0, 8) : tag };
    }

    /// <inheritdoc />
    public async ValueTask<byte[]> DecryptAsync(string externalKeyId, XksEncryptResult ciphertext, ReadOnlyMemory<byte> additionalAuthenticatedData, XksProxyCredential credential, XksRequestMetadata metadata, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ciphertext);
        await EnterAsync(credential, metadata, cancellationToken).ConfigureAwait(false);
        var key = Usable(Faults.WrongKeyId ?? externalKeyId, "DECRYPT");
        if (ciphertext.InitializationVector.Length != CustomKeyStoreCiphertext.IvSize || ciphertext.AuthenticationTag.Length != CustomKeyStoreCiphertext.TagSize)
        {
            throw new XksProxyException(XksErrorName.ValidationException, "The IV must be 12 bytes and the tag 16.");
        }

        var plaintext = new byte[ciphertext.Ciphertext.Length];
        try
        {
            using var aes = new AesGcm(key.Material, CustomKeyStoreCiphertext.TagSize);
            aes.Decrypt(ciphertext.InitializationVector.Span, ciphertext.Ciphertext.Span, ciphertext.AuthenticationTag.Span, plaintext, additionalAuthenticatedData.Span);
        }
        catch (AuthenticationTagMismatchException e)
        {
            throw new XksProxyException(XksErrorName.InvalidCiphertextException, "The ciphertext does not authenticate under the external key.", e);
        }

        if (Faults.FlipPlaintext && plaintext.Length > 0)
        {
            plaintext[0] ^= 0xff;
        }

        return Faults.CorruptResponses && plaintext.Length > 0 ? plaintext[..^1] : plaintext;
    }

    /// <summary>Zeroes every key.</summary>
    public void Dispose()
    {
        foreach (var id in _keys.Keys)
        {
            DeleteKey(id);
        }

        CryptographicOperations.ZeroMemory(_secret);
    }

    /// <summary>The shared prologue of every call: injected latency and failures, then the credential check.</summary>
    private async ValueTask EnterAsync(XksProxyCredential credential, XksRequestMetadata metadata, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(credential);
        ArgumentNullException.ThrowIfNull(metadata);
        if (Faults.Latency > TimeSpan.Zero)
        {
            await Task.Delay(Faults.Latency, _time, cancellationToken).ConfigureAwait(false);
        }

        if (Faults.Unreachable)
        {
            throw new XksProxyUnreachableException("The in-process proxy is configured unreachable.");
        }

        if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(credential.AccessKeyId), _accessKeyId)
            | !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(credential.SecretAccessKey), _secret))
        {
            throw new XksProxyException(XksErrorName.AuthenticationFailedException, "The request signature does not match any credential of the proxy.");
        }

        if (Faults.FailWith is { } error)
        {
            throw new XksProxyException(error, $"Injected {error}.");
        }

        _requests.Enqueue(metadata);
    }

    private ExternalKey Key(string externalKeyId)
        => _keys.TryGetValue(externalKeyId, out var key) ? key : throw new XksProxyException(XksErrorName.KeyNotFoundException, "No external key has that id.");

    private ExternalKey Usable(string externalKeyId, string usage)
    {
        var key = Key(externalKeyId);
        if (!key.Enabled)
        {
            throw new XksProxyException(XksErrorName.InvalidStateException, "The external key is disabled.");
        }

        if (!key.KeyUsage.Contains(usage))
        {
            throw new XksProxyException(XksErrorName.InvalidKeyUsageException, $"The external key does not allow {usage}.");
        }

        return key;
    }

    private sealed class ExternalKey(byte[] material, string keySpec, IReadOnlyList<string> keyUsage)
    {
        public byte[] Material { get; } = material;

        public string KeySpec { get; } = keySpec;

        public IReadOnlyList<string> KeyUsage { get; } = keyUsage;

        public volatile bool Enabled;
    }
}
