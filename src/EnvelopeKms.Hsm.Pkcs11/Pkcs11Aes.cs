using System.Security.Cryptography;
using EnvelopeKms.CustomKeyStores;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;

namespace EnvelopeKms.Hsm.Pkcs11;

/// <summary>The PKCS#11 calls for AES-256 keys that never leave the token, and AES-GCM inside it.</summary>
internal static class Pkcs11Aes
{
    public const int KeySize = 32;
    public const int IdSize = 16;

    /// <summary>The one message of every ciphertext that does not authenticate, whatever the cause (no oracle).</summary>
    private const string NotAuthentic = "The ciphertext, IV, tag or additional authenticated data did not authenticate under the HSM key: they were modified, or another key made them.";

    /// <summary>Generates an AES-256 key inside the token: a token object, sensitive, never extractable, usable only to encrypt and decrypt.</summary>
    public static IObjectHandle Generate(ISession session, string label, byte[] id)
    {
        var f = session.Factories.ObjectAttributeFactory;
        var template = new List<IObjectAttribute>
        {
            f.Create(CKA.CKA_CLASS, CKO.CKO_SECRET_KEY),
            f.Create(CKA.CKA_KEY_TYPE, CKK.CKK_AES),
            f.Create(CKA.CKA_VALUE_LEN, (ulong)KeySize),
            f.Create(CKA.CKA_TOKEN, true),
            f.Create(CKA.CKA_PRIVATE, true),
            f.Create(CKA.CKA_SENSITIVE, true),
            f.Create(CKA.CKA_EXTRACTABLE, false),
            f.Create(CKA.CKA_ENCRYPT, true),
            f.Create(CKA.CKA_DECRYPT, true),
            f.Create(CKA.CKA_WRAP, false),
            f.Create(CKA.CKA_UNWRAP, false),
            f.Create(CKA.CKA_SIGN, false),
            f.Create(CKA.CKA_VERIFY, false),
            f.Create(CKA.CKA_DERIVE, false),
            f.Create(CKA.CKA_MODIFIABLE, false),
            f.Create(CKA.CKA_LABEL, label),
            f.Create(CKA.CKA_ID, id),
        };
        using var mechanism = session.Factories.MechanismFactory.Create(CKM.CKM_AES_KEY_GEN);
        return session.GenerateKey(mechanism, template);
    }

    public static List<IObjectHandle> FindById(ISession session, byte[] id)
    {
        var f = session.Factories.ObjectAttributeFactory;
        return session.FindAllObjects([f.Create(CKA.CKA_CLASS, CKO.CKO_SECRET_KEY), f.Create(CKA.CKA_KEY_TYPE, CKK.CKK_AES), f.Create(CKA.CKA_ID, id)]);
    }

    public static List<IObjectHandle> FindByLabel(ISession session, string label)
    {
        var f = session.Factories.ObjectAttributeFactory;
        return session.FindAllObjects([f.Create(CKA.CKA_CLASS, CKO.CKO_SECRET_KEY), f.Create(CKA.CKA_KEY_TYPE, CKK.CKK_AES), f.Create(CKA.CKA_LABEL, label)]);
    }

    /// <summary>Reads the attributes that say where the key can go.</summary>
    public static Pkcs11KeyAttributes ReadAttributes(ISession session, IObjectHandle handle)
    {
        var values = session.GetAttributeValue(handle,
        [
            CKA.CKA_LABEL, CKA.CKA_ID, CKA.CKA_VALUE_LEN, CKA.CKA_TOKEN, CKA.CKA_PRIVATE, CKA.CKA_SENSITIVE, CKA.CKA_ALWAYS_SENSITIVE,
            CKA.CKA_EXTRACTABLE, CKA.CKA_NEVER_EXTRACTABLE, CKA.CKA_LOCAL, CKA.CKA_ENCRYPT, CKA.CKA_DECRYPT, CKA.CKA_WRAP, CKA.CKA_UNWRAP, CKA.CKA_MODIFIABLE,
        ]);
        bool Flag(int i) => !values[i].CannotBeRead && values[i].GetValueAsBool();
        return new Pkcs11KeyAttributes
        {
            Label = values[0].CannotBeRead ? "" : values[0].GetValueAsString(),
            Id = values[1].CannotBeRead ? "" : Convert.ToHexStringLower(values[1].GetValueAsByteArray() ?? []),
            KeySizeBytes = values[2].CannotBeRead ? 0 : (int)values[2].GetValueAsUlong(),
            Token = Flag(3),
            Private = Flag(4),
            Sensitive = Flag(5),
            AlwaysSensitive = Flag(6),
            Extractable = values[7].CannotBeRead || values[7].GetValueAsBool(),
            NeverExtractable = Flag(8),
            Local = Flag(9),
            Encrypt = Flag(10),
            Decrypt = Flag(11),
            Wrap = Flag(12),
            Unwrap = Flag(13),
            Modifiable = values[14].CannotBeRead || values[14].GetValueAsBool(),
        };
    }

    /// <summary>AES-GCM encryption in the token: a fresh 12-byte IV from <see cref="RandomNumberGenerator"/>, a 16-byte tag.</summary>
    public static CustomKeyStoreCiphertext Encrypt(ISession session, IObjectHandle key, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> aad)
    {
        var iv = RandomNumberGenerator.GetBytes(CustomKeyStoreCiphertext.IvSize);
        var input = plaintext.ToArray();
        try
        {
            using var parameters = session.Factories.MechanismParamsFactory.CreateCkGcmParams(iv, CustomKeyStoreCiphertext.IvSize * 8, aad.ToArray(), CustomKeyStoreCiphertext.TagSize * 8);
            using var mechanism = session.Factories.MechanismFactory.Create(CKM.CKM_AES_GCM, parameters);
            var output = session.Encrypt(mechanism, key, input);
            if (output.Length != input.Length + CustomKeyStoreCiphertext.TagSize)
            {
                throw new KmsInternalException($"The HSM returned {output.Length} bytes of AES-GCM output for {input.Length} bytes of input; expected the ciphertext and a {CustomKeyStoreCiphertext.TagSize}-byte tag.");
            }

            return new CustomKeyStoreCiphertext(iv, output.AsMemory(0, input.Length), output.AsMemory(input.Length));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(input);
        }
    }

    /// <summary>AES-GCM decryption in the token; an authentication failure is <see cref="KmsInvalidCiphertextException"/>.</summary>
    public static byte[] Decrypt(ISession session, IObjectHandle key, CustomKeyStoreCiphertext ciphertext, ReadOnlySpan<byte> aad)
    {
        var input = new byte[ciphertext.Ciphertext.Length + CustomKeyStoreCiphertext.TagSize];
        ciphertext.Ciphertext.Span.CopyTo(input);
        ciphertext.Tag.Span.CopyTo(input.AsSpan(ciphertext.Ciphertext.Length));
        try
        {
            using var parameters = session.Factories.MechanismParamsFactory.CreateCkGcmParams(ciphertext.Iv.ToArray(), CustomKeyStoreCiphertext.IvSize * 8, aad.ToArray(), CustomKeyStoreCiphertext.TagSize * 8);
            using var mechanism = session.Factories.MechanismFactory.Create(CKM.CKM_AES_GCM, parameters);
            var plaintext = session.Decrypt(mechanism, key, input);
            if (plaintext.Length != ciphertext.Ciphertext.Length)
            {
                CryptographicOperations.ZeroMemory(plaintext);
                throw new KmsInvalidCiphertextException(NotAuthentic);
            }

            return plaintext;
        }
        catch (Pkcs11Exception e) when (IsAuthenticationFailure(e.RV) || (e.RV == CKR.CKR_GENERAL_ERROR && SessionStillAnswers(session)))
        {
            throw new KmsInvalidCiphertextException(NotAuthentic, e);
        }
    }

    /// <summary>
    /// SoftHSM2 (2.6) reports a GCM tag that does not verify as <c>CKR_GENERAL_ERROR</c> instead of
    /// <c>CKR_ENCRYPTED_DATA_INVALID</c>. A general error is taken for an authentication failure only when the
    /// session still answers afterwards; a device that stopped answering stays a device failure.
    /// </summary>
    private static bool SessionStillAnswers(ISession session)
    {
        try
        {
            return session.GetSessionInfo().State is CKS.CKS_RW_USER_FUNCTIONS or CKS.CKS_RO_USER_FUNCTIONS;
        }
        catch (Pkcs11Exception)
        {
            return false;
        }
    }

    /// <summary>The return values HSMs give for a GCM tag that does not verify (the standard one, and what some modules return instead).</summary>
    public static bool IsAuthenticationFailure(CKR rv) => rv is CKR.CKR_ENCRYPTED_DATA_INVALID or CKR.CKR_ENCRYPTED_DATA_LEN_RANGE or CKR.CKR_SIGNATURE_INVALID or AeadDecryptFailed;

    /// <summary><c>CKR_AEAD_DECRYPT_FAILED</c> (PKCS#11 3.0), which Pkcs11Interop 5.3.0 does not name.</summary>
    private const CKR AeadDecryptFailed = (CKR)0x35;

    public static byte[] ParseId(string backendKeyId)
    {
        if (backendKeyId is null || backendKeyId.Length != IdSize * 2)
        {
            throw new KmsValidationException($"A PKCS#11 backend key id is {IdSize * 2} hexadecimal characters (the key's CKA_ID).");
        }

        try
        {
            return Convert.FromHexString(backendKeyId);
        }
        catch (FormatException)
        {
            throw new KmsValidationException($"A PKCS#11 backend key id is {IdSize * 2} hexadecimal characters (the key's CKA_ID).");
        }
    }
}

/// <summary>The PKCS#11 attributes of a key in the HSM that say what it can be used for and whether it can leave the token.</summary>
public sealed class Pkcs11KeyAttributes
{
    /// <summary><c>CKA_LABEL</c>: the KMS key id the key was created for.</summary>
    public required string Label { get; init; }

    /// <summary><c>CKA_ID</c>, hexadecimal: the backend key id.</summary>
    public required string Id { get; init; }

    /// <summary><c>CKA_VALUE_LEN</c>: the key length in bytes (32).</summary>
    public int KeySizeBytes { get; init; }

    /// <summary><c>CKA_TOKEN</c>: a persistent token object.</summary>
    public bool Token { get; init; }

    /// <summary><c>CKA_PRIVATE</c>: visible only to a logged-in user.</summary>
    public bool Private { get; init; }

    /// <summary><c>CKA_SENSITIVE</c>: the value cannot be read in plaintext.</summary>
    public bool Sensitive { get; init; }

    /// <summary><c>CKA_ALWAYS_SENSITIVE</c>: the key has been sensitive since it was made.</summary>
    public bool AlwaysSensitive { get; init; }

    /// <summary><c>CKA_EXTRACTABLE</c>: the key could be wrapped out of the token (also <see langword="true"/> when the token would not say).</summary>
    public bool Extractable { get; init; }

    /// <summary><c>CKA_NEVER_EXTRACTABLE</c>: the key has never been extractable.</summary>
    public bool NeverExtractable { get; init; }

    /// <summary><c>CKA_LOCAL</c>: the key was generated in the token (not imported).</summary>
    public bool Local { get; init; }

    /// <summary><c>CKA_ENCRYPT</c>.</summary>
    public bool Encrypt { get; init; }

    /// <summary><c>CKA_DECRYPT</c>.</summary>
    public bool Decrypt { get; init; }

    /// <summary><c>CKA_WRAP</c>: the key can wrap other keys (<see langword="false"/> for keys made here).</summary>
    public bool Wrap { get; init; }

    /// <summary><c>CKA_UNWRAP</c>: the key can unwrap other keys into the token (<see langword="false"/> for keys made here).</summary>
    public bool Unwrap { get; init; }

    /// <summary><c>CKA_MODIFIABLE</c>: the attributes can be changed (also <see langword="true"/> when the token would not say).</summary>
    public bool Modifiable { get; init; }
}
