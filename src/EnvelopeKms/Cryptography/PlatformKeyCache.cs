using System.Collections.Concurrent;
using System.Security.Cryptography;
using EnvelopeKms.KeyManagement;

namespace EnvelopeKms.Cryptography;

/// <summary>
/// Imported platform key objects (<see cref="RSA"/>, <see cref="ECDsa"/>, <see cref="ECDiffieHellman"/>)
/// per key material, so that an asymmetric call does not import its PKCS#8 or SPKI again: the import
/// costs more than the operation itself (benchmarks/README.md, <c>AsymmetricBenchmarks</c>).
/// </summary>
/// <remarks>
/// <para>
/// .NET documents instance members of these types as not guaranteed thread-safe, and OpenSSL allows a
/// shared <c>EVP_PKEY</c> only as long as nothing changes it; rather than rely on an undocumented
/// guarantee, each (key, material, use) has a small lock-free pool of instances, so concurrent callers
/// never share one (the pattern of <c>PlatformAeadKey</c>). A caller that finds the pool empty imports
/// a new instance; one that finds it full disposes its instance on return.
/// </para>
/// <para>
/// Lifetime: entries are dropped (and their instances disposed, which frees the native keys) when the
/// key manager evicts the key (purge, or any change to the key: disable, schedule deletion, import…),
/// when the cache is over <see cref="Capacity"/> entries (an arbitrary entry goes), and on dispose.
/// The material is immutable for a (key id, material id), so an entry never goes stale; eviction only
/// bounds native memory. BouncyCastle keys (Ed25519, ML-DSA, ML-KEM) are not cached: their parameter
/// objects keep the secret in managed arrays that could not be zeroed on eviction.
/// </para>
/// </remarks>
internal sealed class PlatformKeyCache : IDisposable
{
    /// <summary>The most (key, material, use) entries kept; 1024 by default.</summary>
    public int Capacity { get; }

    private readonly ConcurrentDictionary<(string KeyId, string MaterialId, Use Use), Pool> _pools = new();
    private bool _disposed;

    public PlatformKeyCache(int capacity = 1024)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
    }

    /// <summary>What an imported instance is for (its type and whether it holds the private key).</summary>
    private enum Use : byte
    {
        RsaPrivate,
        RsaPublic,
        EcdsaPrivate,
        EcdsaPublic,
        EcdhPrivate,
    }

    /// <summary>The number of entries, for tests.</summary>
    internal int Count => _pools.Count;

    /// <summary>Whether the platform runs this signing algorithm (and so it goes through the cache).</summary>
    public static bool IsPlatformSigning(SigningAlgorithm algorithm) => algorithm is not (SigningAlgorithm.Ed25519Sha512 or SigningAlgorithm.Ed25519PhSha512 or SigningAlgorithm.MlDsaShake256);

    /// <summary>Signs with the key's cached private key object (RSA, ECDSA), or through <see cref="KeySpecs.Sign"/> for BouncyCastle algorithms.</summary>
    public byte[] Sign(string keyId, string materialId, KeySpec spec, byte[] pkcs8, SigningAlgorithm algorithm, ReadOnlySpan<byte> message, MessageType type)
    {
        if (!IsPlatformSigning(algorithm))
        {
            return KeySpecs.Sign(spec, pkcs8, algorithm, message, type);
        }

        var messageType = KeySpecs.ToPrimitive(type);
        if (KeySpecs.IsRsa(spec))
        {
            var (scheme, hash) = KeySpecs.RsaSchemeOf(algorithm);
            var pool = PoolOf(keyId, materialId, Use.RsaPrivate, () => RsaSignatures.ImportPrivate(pkcs8));
            var rsa = (RSA)pool.Rent();
            try
            {
                return RsaSignatures.Sign(rsa, scheme, hash, message, messageType);
            }
            finally
            {
                pool.Return(rsa);
            }
        }

        var curve = KeySpecs.CurveOf(spec);
        var ecPool = PoolOf(keyId, materialId, Use.EcdsaPrivate, () => EcdsaSignatures.ImportPrivate(pkcs8, curve));
        var ecdsa = (ECDsa)ecPool.Rent();
        try
        {
            return EcdsaSignatures.Sign(ecdsa, curve, message, messageType);
        }
        finally
        {
            ecPool.Return(ecdsa);
        }
    }

    /// <summary>Verifies with the key's cached public key object (RSA, ECDSA), or through <see cref="KeySpecs.Verify"/> for BouncyCastle algorithms.</summary>
    public bool Verify(string keyId, string materialId, KeySpec spec, byte[] spki, SigningAlgorithm algorithm, ReadOnlySpan<byte> message, MessageType type, ReadOnlySpan<byte> signature)
    {
        if (!IsPlatformSigning(algorithm))
        {
            return KeySpecs.Verify(spec, spki, algorithm, message, type, signature);
        }

        var messageType = KeySpecs.ToPrimitive(type);
        if (KeySpecs.IsRsa(spec))
        {
            var (scheme, hash) = KeySpecs.RsaSchemeOf(algorithm);
            var pool = PoolOf(keyId, materialId, Use.RsaPublic, () => RsaSignatures.ImportPublic(spki));
            var rsa = (RSA)pool.Rent();
            try
            {
                return RsaSignatures.Verify(rsa, scheme, hash, message, messageType, signature);
            }
            finally
            {
                pool.Return(rsa);
            }
        }

        var curve = KeySpecs.CurveOf(spec);
        var ecPool = PoolOf(keyId, materialId, Use.EcdsaPublic, () => EcdsaSignatures.ImportPublic(spki, curve));
        var ecdsa = (ECDsa)ecPool.Rent();
        try
        {
            return EcdsaSignatures.Verify(ecdsa, curve, message, messageType, signature);
        }
        finally
        {
            ecPool.Return(ecdsa);
        }
    }

    /// <summary>RSAES-OAEP encryption with the key's cached public key object.</summary>
    public byte[] RsaEncrypt(string keyId, string materialId, byte[] spki, ReadOnlySpan<byte> plaintext, RsaOaepAlgorithm algorithm)
    {
        var pool = PoolOf(keyId, materialId, Use.RsaPublic, () => RsaSignatures.ImportPublic(spki));
        var rsa = (RSA)pool.Rent();
        try
        {
            return RsaOaep.Encrypt(rsa, plaintext, algorithm);
        }
        finally
        {
            pool.Return(rsa);
        }
    }

    /// <summary>RSAES-OAEP decryption with the key's cached private key object.</summary>
    public byte[] RsaDecrypt(string keyId, string materialId, byte[] pkcs8, ReadOnlySpan<byte> ciphertext, RsaOaepAlgorithm algorithm)
    {
        var pool = PoolOf(keyId, materialId, Use.RsaPrivate, () => RsaSignatures.ImportPrivate(pkcs8));
        var rsa = (RSA)pool.Rent();
        try
        {
            return RsaOaep.Decrypt(rsa, ciphertext, algorithm);
        }
        finally
        {
            pool.Return(rsa);
        }
    }

    /// <summary>ECDH with the key's cached private key object and a peer's SubjectPublicKeyInfo.</summary>
    public byte[] DeriveSharedSecret(string keyId, string materialId, EcdhCurve curve, byte[] pkcs8, ReadOnlySpan<byte> peerSpki)
    {
        // The peer key is checked before any key object is imported or rented.
        var point = SubjectPublicKeyInfoValidation.ReadNamedCurvePoint(peerSpki, Ecdh.Oid(curve), Ecdh.FieldLength(curve));
        var pool = PoolOf(keyId, materialId, Use.EcdhPrivate, () => Ecdh.ImportPrivateKey(curve, pkcs8));
        var ecdh = (ECDiffieHellman)pool.Rent();
        try
        {
            return Ecdh.DeriveSharedSecretFromPoint(curve, ecdh, point);
        }
        finally
        {
            pool.Return(ecdh);
        }
    }

    /// <summary>Drops and disposes every entry of a key (all its materials and uses).</summary>
    public void Evict(string keyId)
    {
        foreach (var entry in _pools)
        {
            if (entry.Key.KeyId == keyId && _pools.TryRemove(entry.Key, out var pool))
            {
                pool.Dispose();
            }
        }
    }

    /// <summary>Drops and disposes every entry.</summary>
    public void Dispose()
    {
        _disposed = true;
        foreach (var key in _pools.Keys)
        {
            if (_pools.TryRemove(key, out var pool))
            {
                pool.Dispose();
            }
        }
    }

    private Pool PoolOf(string keyId, string materialId, Use use, Func<AsymmetricAlgorithm> import)
    {
        if (_pools.TryGetValue((keyId, materialId, use), out var existing))
        {
            return existing;
        }

        // The first import happens here, outside the dictionary, so a bad key fails without an entry.
        var first = import();
        var pool = new Pool(import);
        pool.Return(first);
        if (_disposed)
        {
            pool.Dispose(); // unpooled: the instance rented from it is imported anew and disposed on return
            return pool;
        }

        var added = _pools.GetOrAdd((keyId, materialId, use), pool);
        if (!ReferenceEquals(added, pool))
        {
            pool.Dispose();
            return added;
        }

        TrimToCapacity(keyId, materialId, use);
        return pool;
    }

    private void TrimToCapacity(string keyId, string materialId, Use use)
    {
        foreach (var key in _pools.Keys)
        {
            if (_pools.Count <= Capacity)
            {
                return;
            }

            if (key != (keyId, materialId, use) && _pools.TryRemove(key, out var pool))
            {
                pool.Dispose();
            }
        }
    }

    /// <summary>A few imported instances of one key; rented by one caller at a time.</summary>
    private sealed class Pool(Func<AsymmetricAlgorithm> import) : IDisposable
    {
        private readonly AsymmetricAlgorithm?[] _slots = new AsymmetricAlgorithm?[Math.Clamp(Environment.ProcessorCount, 2, 8)];
        private volatile bool _disposed;

        public AsymmetricAlgorithm Rent()
        {
            for (var i = 0; i < _slots.Length; i++)
            {
                if (Volatile.Read(ref _slots[i]) is not null && Interlocked.Exchange(ref _slots[i], null) is { } key)
                {
                    return key;
                }
            }

            return import();
        }

        public void Return(AsymmetricAlgorithm key)
        {
            if (!_disposed)
            {
                for (var i = 0; i < _slots.Length; i++)
                {
                    if (Interlocked.CompareExchange(ref _slots[i], key, null) is null)
                    {
                        // Disposed meanwhile: take it back out (unless Dispose already did) and dispose it.
                        if (_disposed && ReferenceEquals(Interlocked.CompareExchange(ref _slots[i], null, key), key))
                        {
                            key.Dispose();
                        }

                        return;
                    }
                }
            }

            key.Dispose();
        }

        public void Dispose()
        {
            _disposed = true;
            for (var i = 0; i < _slots.Length; i++)
            {
                Interlocked.Exchange(ref _slots[i], null)?.Dispose();
            }
        }
    }
}
