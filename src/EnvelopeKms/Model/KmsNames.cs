namespace EnvelopeKms;

/// <summary>
/// Converts between EnvelopeKms enumerations and the AWS KMS wire names (<c>SYMMETRIC_DEFAULT</c>,
/// <c>ENCRYPT_DECRYPT</c>, <c>PendingDeletion</c>, ...), for documents, audit records and adapters.
/// </summary>
public static class KmsNames
{
    /// <summary>Returns the AWS KMS name of a key state.</summary>
    public static string ToKmsName(this KeyState value) => value switch
    {
        KeyState.Enabled => "Enabled",
        KeyState.Disabled => "Disabled",
        KeyState.PendingDeletion => "PendingDeletion",
        KeyState.PendingImport => "PendingImport",
        KeyState.Unavailable => "Unavailable",
        KeyState.Creating => "Creating",
        KeyState.Updating => "Updating",
        KeyState.PendingReplicaDeletion => "PendingReplicaDeletion",
        _ => throw new ArgumentOutOfRangeException(nameof(value)),
    };

    /// <summary>Returns the AWS KMS name of a key usage.</summary>
    public static string ToKmsName(this KeyUsage value) => value switch
    {
        KeyUsage.EncryptDecrypt => "ENCRYPT_DECRYPT",
        KeyUsage.SignVerify => "SIGN_VERIFY",
        KeyUsage.GenerateVerifyMac => "GENERATE_VERIFY_MAC",
        KeyUsage.KeyAgreement => "KEY_AGREEMENT",
        KeyUsage.EncapsulateDecapsulate => "ENCAPSULATE_DECAPSULATE",
        _ => throw new ArgumentOutOfRangeException(nameof(value)),
    };

    /// <summary>Returns the AWS KMS name of a key spec.</summary>
    public static string ToKmsName(this KeySpec value) => value switch
    {
        KeySpec.SymmetricDefault => "SYMMETRIC_DEFAULT",
        KeySpec.Hmac224 => "HMAC_224",
        KeySpec.Hmac256 => "HMAC_256",
        KeySpec.Hmac384 => "HMAC_384",
        KeySpec.Hmac512 => "HMAC_512",
        KeySpec.Rsa2048 => "RSA_2048",
        KeySpec.Rsa3072 => "RSA_3072",
        KeySpec.Rsa4096 => "RSA_4096",
        KeySpec.EccNistP256 => "ECC_NIST_P256",
        KeySpec.EccNistP384 => "ECC_NIST_P384",
        KeySpec.EccNistP521 => "ECC_NIST_P521",
        KeySpec.EccSecgP256k1 => "ECC_SECG_P256K1",
        KeySpec.EccNistEdwards25519 => "ECC_NIST_EDWARDS25519",
        KeySpec.MlDsa44 => "ML_DSA_44",
        KeySpec.MlDsa65 => "ML_DSA_65",
        KeySpec.MlDsa87 => "ML_DSA_87",
        KeySpec.MlKem512 => "ML_KEM_512",
        KeySpec.MlKem768 => "ML_KEM_768",
        KeySpec.MlKem1024 => "ML_KEM_1024",
        _ => throw new ArgumentOutOfRangeException(nameof(value)),
    };

    /// <summary>Returns the AWS KMS name of a signing algorithm.</summary>
    public static string ToKmsName(this SigningAlgorithm value) => value switch
    {
        SigningAlgorithm.RsassaPssSha256 => "RSASSA_PSS_SHA_256",
        SigningAlgorithm.RsassaPssSha384 => "RSASSA_PSS_SHA_384",
        SigningAlgorithm.RsassaPssSha512 => "RSASSA_PSS_SHA_512",
        SigningAlgorithm.RsassaPkcs1V15Sha256 => "RSASSA_PKCS1_V1_5_SHA_256",
        SigningAlgorithm.RsassaPkcs1V15Sha384 => "RSASSA_PKCS1_V1_5_SHA_384",
        SigningAlgorithm.RsassaPkcs1V15Sha512 => "RSASSA_PKCS1_V1_5_SHA_512",
        SigningAlgorithm.EcdsaSha256 => "ECDSA_SHA_256",
        SigningAlgorithm.EcdsaSha384 => "ECDSA_SHA_384",
        SigningAlgorithm.EcdsaSha512 => "ECDSA_SHA_512",
        SigningAlgorithm.Ed25519Sha512 => "ED25519_SHA_512",
        SigningAlgorithm.Ed25519PhSha512 => "ED25519_PH_SHA_512",
        SigningAlgorithm.MlDsaShake256 => "ML_DSA_SHAKE_256",
        _ => throw new ArgumentOutOfRangeException(nameof(value)),
    };

    /// <summary>Returns the AWS KMS name of a message type.</summary>
    public static string ToKmsName(this MessageType value) => value switch
    {
        MessageType.Raw => "RAW",
        MessageType.Digest => "DIGEST",
        MessageType.ExternalMu => "EXTERNAL_MU",
        _ => throw new ArgumentOutOfRangeException(nameof(value)),
    };

    /// <summary>Returns the AWS KMS name of a MAC algorithm.</summary>
    public static string ToKmsName(this MacAlgorithm value) => value switch
    {
        MacAlgorithm.HmacSha224 => "HMAC_SHA_224",
        MacAlgorithm.HmacSha256 => "HMAC_SHA_256",
        MacAlgorithm.HmacSha384 => "HMAC_SHA_384",
        MacAlgorithm.HmacSha512 => "HMAC_SHA_512",
        _ => throw new ArgumentOutOfRangeException(nameof(value)),
    };

    /// <summary>Returns the AWS KMS name of a wrapping key spec.</summary>
    public static string ToKmsName(this WrappingKeySpec value) => value switch
    {
        WrappingKeySpec.Rsa2048 => "RSA_2048",
        WrappingKeySpec.Rsa3072 => "RSA_3072",
        WrappingKeySpec.Rsa4096 => "RSA_4096",
        _ => throw new ArgumentOutOfRangeException(nameof(value)),
    };

    /// <summary>Returns the AWS KMS name of an import wrapping algorithm.</summary>
    public static string ToKmsName(this ImportWrappingAlgorithm value) => value switch
    {
        ImportWrappingAlgorithm.RsaesOaepSha1 => "RSAES_OAEP_SHA_1",
        ImportWrappingAlgorithm.RsaesOaepSha256 => "RSAES_OAEP_SHA_256",
        ImportWrappingAlgorithm.RsaAesKeyWrapSha1 => "RSA_AES_KEY_WRAP_SHA_1",
        ImportWrappingAlgorithm.RsaAesKeyWrapSha256 => "RSA_AES_KEY_WRAP_SHA_256",
        _ => throw new ArgumentOutOfRangeException(nameof(value)),
    };

    /// <summary>Returns the AWS KMS name of an expiration model.</summary>
    public static string ToKmsName(this ExpirationModel value) => value switch
    {
        ExpirationModel.KeyMaterialExpires => "KEY_MATERIAL_EXPIRES",
        ExpirationModel.KeyMaterialDoesNotExpire => "KEY_MATERIAL_DOES_NOT_EXPIRE",
        _ => throw new ArgumentOutOfRangeException(nameof(value)),
    };

    /// <summary>Returns the AWS KMS name of an import type.</summary>
    public static string ToKmsName(this ImportType value) => value switch
    {
        ImportType.NewKeyMaterial => "NEW_KEY_MATERIAL",
        ImportType.ExistingKeyMaterial => "EXISTING_KEY_MATERIAL",
        _ => throw new ArgumentOutOfRangeException(nameof(value)),
    };

    /// <summary>Returns the AWS KMS name of an import state.</summary>
    public static string ToKmsName(this ImportState value) => value switch
    {
        ImportState.Imported => "IMPORTED",
        ImportState.PendingImport => "PENDING_IMPORT",
        _ => throw new ArgumentOutOfRangeException(nameof(value)),
    };

    /// <summary>Returns the AWS KMS name of a key origin.</summary>
    public static string ToKmsName(this KeyOrigin value) => value switch
    {
        KeyOrigin.AwsKms => "AWS_KMS",
        KeyOrigin.External => "EXTERNAL",
        KeyOrigin.AwsCloudHsm => "AWS_CLOUDHSM",
        KeyOrigin.ExternalKeyStore => "EXTERNAL_KEY_STORE",
        _ => throw new ArgumentOutOfRangeException(nameof(value)),
    };

    /// <summary>Returns the AWS KMS name of a key manager type.</summary>
    public static string ToKmsName(this KeyManagerType value) => value switch
    {
        KeyManagerType.Customer => "CUSTOMER",
        KeyManagerType.Aws => "AWS",
        KeyManagerType.Owned => "OWNED",
        _ => throw new ArgumentOutOfRangeException(nameof(value)),
    };

    /// <summary>Returns the AWS KMS name of a rotation type.</summary>
    public static string ToKmsName(this KeyRotationType value) => value switch
    {
        KeyRotationType.Automatic => "AUTOMATIC",
        KeyRotationType.OnDemand => "ON_DEMAND",
        _ => throw new ArgumentOutOfRangeException(nameof(value)),
    };

    /// <summary>Returns the AWS KMS name of a key-material state.</summary>
    public static string ToKmsName(this KeyMaterialState value) => value switch
    {
        KeyMaterialState.Current => "CURRENT",
        KeyMaterialState.NonCurrent => "NON_CURRENT",
        KeyMaterialState.PendingRotation => "PENDING_ROTATION",
        _ => throw new ArgumentOutOfRangeException(nameof(value)),
    };

    /// <summary>Returns the AWS KMS name of an encryption algorithm.</summary>
    public static string ToKmsName(this EncryptionAlgorithm value) => value switch
    {
        EncryptionAlgorithm.SymmetricDefault => "SYMMETRIC_DEFAULT",
        EncryptionAlgorithm.RsaesOaepSha1 => "RSAES_OAEP_SHA_1",
        EncryptionAlgorithm.RsaesOaepSha256 => "RSAES_OAEP_SHA_256",
        _ => throw new ArgumentOutOfRangeException(nameof(value)),
    };

    /// <summary>Returns the AWS KMS name of a key agreement algorithm.</summary>
    public static string ToKmsName(this KeyAgreementAlgorithm value) => value switch
    {
        KeyAgreementAlgorithm.Ecdh => "ECDH",
        _ => throw new ArgumentOutOfRangeException(nameof(value)),
    };

    /// <summary>Returns the AWS KMS name of a data key spec.</summary>
    public static string ToKmsName(this DataKeySpec value) => value switch
    {
        DataKeySpec.Aes256 => "AES_256",
        DataKeySpec.Aes128 => "AES_128",
        _ => throw new ArgumentOutOfRangeException(nameof(value)),
    };

    /// <summary>Returns the AWS KMS name of a data key pair spec.</summary>
    public static string ToKmsName(this DataKeyPairSpec value) => value switch
    {
        DataKeyPairSpec.Rsa2048 => "RSA_2048",
        DataKeyPairSpec.Rsa3072 => "RSA_3072",
        DataKeyPairSpec.Rsa4096 => "RSA_4096",
        DataKeyPairSpec.EccNistP256 => "ECC_NIST_P256",
        DataKeyPairSpec.EccNistP384 => "ECC_NIST_P384",
        DataKeyPairSpec.EccNistP521 => "ECC_NIST_P521",
        DataKeyPairSpec.EccSecgP256k1 => "ECC_SECG_P256K1",
        DataKeyPairSpec.EccNistEdwards25519 => "ECC_NIST_EDWARDS25519",
        DataKeyPairSpec.MlKem512 => "ML_KEM_512",
        DataKeyPairSpec.MlKem768 => "ML_KEM_768",
        DataKeyPairSpec.MlKem1024 => "ML_KEM_1024",
        _ => throw new ArgumentOutOfRangeException(nameof(value)),
    };

    /// <summary>The AWS KMS name <c>SM2</c>, a key spec and data key pair spec this version does not offer.</summary>
    private const string Sm2 = "SM2";

    /// <summary>Why <c>SM2</c> is not offered, for the error an adapter reports.</summary>
    internal const string Sm2UnsupportedReason =
        "AWS KMS offers SM2 only in its China Regions, and although BouncyCastle has SM2 primitives, "
        + "the shared test vectors have no SM2 conformance vectors (Wycheproof has none), so SM2 could not be verified "
        + "the way every other key spec here is.";

    /// <summary>
    /// Returns the key spec of an AWS KMS <c>KeySpec</c> name (<c>SYMMETRIC_DEFAULT</c>, <c>RSA_2048</c>, ...),
    /// for adapters that receive wire names.
    /// </summary>
    /// <exception cref="KmsUnsupportedOperationException">The name is <c>SM2</c>, which AWS KMS lists but this version does not offer.</exception>
    /// <exception cref="KmsValidationException">The name is not a key spec.</exception>
    public static KeySpec ParseKeySpec(string name) => Parse<KeySpec>(name, "KeySpec", static v => v.ToKmsName());

    /// <summary>Returns the data key pair spec of an AWS KMS <c>DataKeyPairSpec</c> name (<c>RSA_2048</c>, <c>ECC_NIST_P256</c>, ...).</summary>
    /// <exception cref="KmsUnsupportedOperationException">The name is <c>SM2</c>, which AWS KMS lists but this version does not offer.</exception>
    /// <exception cref="KmsValidationException">The name is not a data key pair spec.</exception>
    public static DataKeyPairSpec ParseDataKeyPairSpec(string name) => Parse<DataKeyPairSpec>(name, "KeyPairSpec", static v => v.ToKmsName());

    private static T Parse<T>(string name, string parameterName, Func<T, string> toName)
        where T : struct, Enum
    {
        ArgumentNullException.ThrowIfNull(name);
        foreach (var value in Enum.GetValues<T>())
        {
            if (string.Equals(toName(value), name, StringComparison.Ordinal))
            {
                return value;
            }
        }

        if (string.Equals(name, Sm2, StringComparison.Ordinal))
        {
            throw new KmsUnsupportedOperationException($"{parameterName} {Sm2} is not supported: {Sm2UnsupportedReason}");
        }

        throw new KmsValidationException($"{parameterName} '{Truncate(name)}' is not a known value; use {string.Join(", ", Enum.GetValues<T>().Select(toName))}.");
    }

    private static string Truncate(string name) => name.Length <= 64 ? name : name[..64] + "…";
    /// <summary>Returns the AWS KMS name of a key encryption mechanism.</summary>
    public static string ToKmsName(this KeyEncryptionMechanism value) => value switch
    {
        KeyEncryptionMechanism.RsaesOaepSha256 => "RSAES_OAEP_SHA_256",
        _ => throw new ArgumentOutOfRangeException(nameof(value)),
    };
}
