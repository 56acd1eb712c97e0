using System.Security.Cryptography;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Kems;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Prng;
using Org.BouncyCastle.Pkcs;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.X509;

namespace EnvelopeKms.Cryptography;

/// <summary>The ML-KEM parameter sets of FIPS 203 (KMS ML_KEM_512 / 768 / 1024).</summary>
internal enum MlKemParameterSet
{
    /// <summary>ML-KEM-512.</summary>
    MlKem512,

    /// <summary>ML-KEM-768.</summary>
    MlKem768,

    /// <summary>ML-KEM-1024.</summary>
    MlKem1024,
}

/// <summary>
/// ML-KEM (FIPS 203) with BouncyCastle (the platform's <c>MLKem</c> needs OpenSSL 3.5). Private keys are
/// PKCS#8 DER (the 64-byte seed form BouncyCastle writes, id-alg-ml-kem-*), public keys SubjectPublicKeyInfo
/// DER. Imports run the FIPS 203 input checks (encapsulation-key modulus check, decapsulation-key hash
/// check). Decapsulation uses implicit rejection: a ciphertext of the right length always yields a 32-byte
/// secret (a pseudo-random one when it was not made for this key); only a wrong length is an
/// invalid-ciphertext error.
/// </summary>
internal static class MlKem
{
    /// <summary>Where ML-KEM runs here (see <see cref="CryptoProvenance"/>).</summary>
    public const CryptoProvider Provider = CryptoProvider.BouncyCastle;

    /// <summary>The length of every shared secret.</summary>
    public const int SharedSecretLength = 32;

    /// <summary>The length of a key-generation seed (d || z).</summary>
    public const int SeedLength = 64;

    /// <summary>The ciphertext length of a parameter set (768, 1088, 1568 bytes).</summary>
    public static int CiphertextLength(MlKemParameterSet set) => Parameters(set).ParameterSet.EncapsulationLength;

    /// <summary>Generates a key pair from fresh randomness.</summary>
    public static (byte[] Pkcs8, byte[] Spki) GenerateKeyPair(MlKemParameterSet set)
    {
        var generator = new MLKemKeyPairGenerator();
        generator.Init(new MLKemKeyGenerationParameters(new SecureRandom(), Parameters(set)));
        var pair = generator.GenerateKeyPair();
        return Encode((MLKemPrivateKeyParameters)pair.Private);
    }

    /// <summary>The key pair FIPS 203 ML-KEM.KeyGen_internal derives from a 64-byte seed (d || z).</summary>
    public static (byte[] Pkcs8, byte[] Spki) GenerateKeyPairFromSeed(MlKemParameterSet set, ReadOnlySpan<byte> seed)
    {
        if (seed.Length != SeedLength)
        {
            throw new KmsValidationException($"An ML-KEM seed has {SeedLength} bytes.");
        }

        var copy = seed.ToArray();
        try
        {
            return Encode(MLKemPrivateKeyParameters.FromSeed(Parameters(set), copy));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(copy);
        }
    }

    /// <summary>A PKCS#8 private key from an expanded FIPS 203 decapsulation key, after its length and hash checks.</summary>
    public static byte[] ImportDecapsulationKey(MlKemParameterSet set, ReadOnlySpan<byte> decapsulationKey)
    {
        try
        {
            var key = MLKemPrivateKeyParameters.FromEncoding(Parameters(set), decapsulationKey.ToArray());
            return PrivateKeyInfoFactory.CreatePrivateKeyInfo(key).GetEncoded();
        }
        catch (ArgumentException e)
        {
            throw new KmsValidationException("The ML-KEM decapsulation key is malformed.", e);
        }
    }

    /// <summary>A SubjectPublicKeyInfo from a raw FIPS 203 encapsulation key, after its length and modulus checks.</summary>
    public static byte[] ImportEncapsulationKey(MlKemParameterSet set, ReadOnlySpan<byte> encapsulationKey)
        => SubjectPublicKeyInfoFactory.CreateSubjectPublicKeyInfo(ReadEncapsulationKey(set, encapsulationKey)).GetEncoded();

    /// <summary>The raw FIPS 203 encapsulation key inside a SubjectPublicKeyInfo.</summary>
    public static byte[] ExportEncapsulationKey(MlKemParameterSet set, ReadOnlySpan<byte> spki) => ReadPublicKey(set, spki).GetEncoded();

    /// <summary>The expanded FIPS 203 decapsulation key of a PKCS#8 private key (for known-answer tests; it never leaves otherwise).</summary>
    public static byte[] ExportDecapsulationKey(MlKemParameterSet set, ReadOnlySpan<byte> pkcs8) => ReadPrivateKey(set, pkcs8).GetEncoded();

    /// <summary>The SPKI of the encapsulation key of a PKCS#8 private key of <paramref name="set"/>.</summary>
    public static byte[] PublicKeyOf(MlKemParameterSet set, ReadOnlySpan<byte> pkcs8)
        => SubjectPublicKeyInfoFactory.CreateSubjectPublicKeyInfo(ReadPrivateKey(set, pkcs8).GetPublicKey()).GetDerEncoded();

    /// <summary>Encapsulates to a public key: a fresh 32-byte shared secret and its ciphertext.</summary>
    public static (byte[] SharedSecret, byte[] Ciphertext) Encapsulate(MlKemParameterSet set, ReadOnlySpan<byte> spki)
        => Encapsulate(set, ReadPublicKey(set, spki), new SecureRandom());

    /// <summary>
    /// FIPS 203 ML-KEM.Encaps_internal with a given 32-byte message <paramref name="m"/>, for known-answer
    /// tests only: production encapsulation draws m from the system's random generator.
    /// </summary>
    public static (byte[] SharedSecret, byte[] Ciphertext) EncapsulateDeterministic(MlKemParameterSet set, ReadOnlySpan<byte> encapsulationKey, ReadOnlySpan<byte> m)
    {
        if (m.Length != 32)
        {
            throw new KmsValidationException("The encapsulation message has 32 bytes.");
        }

        return Encapsulate(set, ReadEncapsulationKey(set, encapsulationKey), new SecureRandom(new FixedBytes(m.ToArray())));
    }

    /// <summary>
    /// Decapsulates a ciphertext with a PKCS#8 private key. A ciphertext of the parameter set's length
    /// always gives 32 bytes (implicit rejection); another length is a <see cref="KmsInvalidCiphertextException"/>.
    /// </summary>
    public static byte[] Decapsulate(MlKemParameterSet set, ReadOnlySpan<byte> pkcs8, ReadOnlySpan<byte> ciphertext)
    {
        var key = ReadPrivateKey(set, pkcs8);
        var expectedLength = key.Parameters.ParameterSet.EncapsulationLength;
        if (ciphertext.Length != expectedLength)
        {
            throw new KmsInvalidCiphertextException($"An {key.Parameters.Name} ciphertext has {expectedLength} bytes.");
        }

        var decapsulator = new MLKemDecapsulator(key.Parameters);
        decapsulator.Init(key);
        var secret = new byte[decapsulator.SecretLength];
        decapsulator.Decapsulate(ciphertext, secret);
        return secret;
    }

    private static (byte[] SharedSecret, byte[] Ciphertext) Encapsulate(MlKemParameterSet set, MLKemPublicKeyParameters key, SecureRandom random)
    {
        var encapsulator = new MLKemEncapsulator(Parameters(set));
        encapsulator.Init(new ParametersWithRandom(key, random));
        var ciphertext = new byte[encapsulator.EncapsulationLength];
        var secret = new byte[encapsulator.SecretLength];
        encapsulator.Encapsulate(ciphertext, secret);
        return (secret, ciphertext);
    }

    private static (byte[] Pkcs8, byte[] Spki) Encode(MLKemPrivateKeyParameters key)
        => (PrivateKeyInfoFactory.CreatePrivateKeyInfo(key).GetEncoded(),
            SubjectPublicKeyInfoFactory.CreateSubjectPublicKeyInfo(key.GetPublicKey()).GetEncoded());

    private static MLKemPublicKeyParameters ReadEncapsulationKey(MlKemParameterSet set, ReadOnlySpan<byte> encapsulationKey)
    {
        try
        {
            return MLKemPublicKeyParameters.FromEncoding(Parameters(set), encapsulationKey.ToArray());
        }
        catch (ArgumentException e)
        {
            throw new KmsValidationException("The ML-KEM encapsulation key is malformed.", e);
        }
    }

    private static MLKemPublicKeyParameters ReadPublicKey(MlKemParameterSet set, ReadOnlySpan<byte> spki)
    {
        AsymmetricKeyParameter key;
        try
        {
            var info = SubjectPublicKeyInfo.GetInstance(spki.ToArray());
            if (info.GetEncoded().Length != spki.Length)
            {
                throw new KmsValidationException("The ML-KEM public key has trailing data.");
            }

            key = PublicKeyFactory.CreateKey(info);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException or SecurityUtilityException)
        {
            throw new KmsValidationException("The ML-KEM public key could not be read.", e);
        }

        return key is MLKemPublicKeyParameters kem && kem.Parameters == Parameters(set)
            ? kem
            : throw new KmsValidationException($"The public key is not an {Parameters(set).Name} key.");
    }

    private static MLKemPrivateKeyParameters ReadPrivateKey(MlKemParameterSet set, ReadOnlySpan<byte> pkcs8)
    {
        AsymmetricKeyParameter key;
        try
        {
            key = PrivateKeyFactory.CreateKey(pkcs8.ToArray());
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException or SecurityUtilityException)
        {
            throw new KmsValidationException("The ML-KEM private key could not be read.", e);
        }

        return key is MLKemPrivateKeyParameters kem && kem.Parameters == Parameters(set)
            ? kem
            : throw new KmsValidationException($"The private key is not an {Parameters(set).Name} key.");
    }

    private static MLKemParameters Parameters(MlKemParameterSet set) => set switch
    {
        MlKemParameterSet.MlKem512 => MLKemParameters.ml_kem_512,
        MlKemParameterSet.MlKem768 => MLKemParameters.ml_kem_768,
        MlKemParameterSet.MlKem1024 => MLKemParameters.ml_kem_1024,
        _ => throw new KmsValidationException("Unknown ML-KEM parameter set."),
    };

    /// <summary>A "random" generator that yields given bytes once (deterministic encapsulation for known-answer tests).</summary>
    private sealed class FixedBytes(byte[] bytes) : IRandomGenerator
    {
        private int _position;

        public void AddSeedMaterial(byte[] seed) { }

        public void AddSeedMaterial(ReadOnlySpan<byte> seed) { }

        public void AddSeedMaterial(long seed) { }

        public void NextBytes(byte[] bytes) => NextBytes(bytes.AsSpan());

        public void NextBytes(byte[] bytes, int start, int len) => NextBytes(bytes.AsSpan(start, len));

        public void NextBytes(Span<byte> output)
        {
            if (output.Length > bytes.Length - _position)
            {
                throw new InvalidOperationException("The fixed bytes are exhausted.");
            }

            bytes.AsSpan(_position, output.Length).CopyTo(output);
            _position += output.Length;
        }
    }
}
