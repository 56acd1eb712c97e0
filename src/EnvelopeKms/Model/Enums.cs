namespace EnvelopeKms;

/// <summary>The state of a KMS key, as in AWS KMS (<c>KeyState</c>).</summary>
public enum KeyState
{
    /// <summary>The key is usable in cryptographic operations.</summary>
    Enabled = 1,
    /// <summary>The key exists but cryptographic operations fail with <see cref="KmsDisabledException"/>.</summary>
    Disabled,
    /// <summary>The key is scheduled for deletion; it is purged when its waiting period ends.</summary>
    PendingDeletion,
    /// <summary>The key waits for imported key material (origin <see cref="KeyOrigin.External"/>).</summary>
    PendingImport,
    /// <summary>The key's material lives in a key store that is currently disconnected.</summary>
    Unavailable,
    /// <summary>Transient state of a multi-region replica being created.</summary>
    Creating,
    /// <summary>Transient state of a multi-region key whose primary region is being updated.</summary>
    Updating,
    /// <summary>A multi-region primary key waiting for its replicas to be deleted.</summary>
    PendingReplicaDeletion,
}

/// <summary>The cryptographic operations a key can be used for (<c>KeyUsage</c>).</summary>
public enum KeyUsage
{
    /// <summary><c>ENCRYPT_DECRYPT</c>.</summary>
    EncryptDecrypt = 1,
    /// <summary><c>SIGN_VERIFY</c>.</summary>
    SignVerify,
    /// <summary><c>GENERATE_VERIFY_MAC</c>.</summary>
    GenerateVerifyMac,
    /// <summary><c>KEY_AGREEMENT</c>.</summary>
    KeyAgreement,
}

/// <summary>The type of key material (<c>KeySpec</c>). This version supports <see cref="SymmetricDefault"/> and the HMAC specs.</summary>
public enum KeySpec
{
    /// <summary><c>SYMMETRIC_DEFAULT</c>: a 256-bit AES-GCM key.</summary>
    SymmetricDefault = 1,
    /// <summary><c>HMAC_224</c>: a 224-bit HMAC key for <see cref="MacAlgorithm.HmacSha224"/>.</summary>
    Hmac224,
    /// <summary><c>HMAC_256</c>: a 256-bit HMAC key for <see cref="MacAlgorithm.HmacSha256"/>.</summary>
    Hmac256,
    /// <summary><c>HMAC_384</c>: a 384-bit HMAC key for <see cref="MacAlgorithm.HmacSha384"/>.</summary>
    Hmac384,
    /// <summary><c>HMAC_512</c>: a 512-bit HMAC key for <see cref="MacAlgorithm.HmacSha512"/>.</summary>
    Hmac512,
}

/// <summary>MAC algorithms of HMAC keys (<c>MacAlgorithmSpec</c>).</summary>
public enum MacAlgorithm
{
    /// <summary><c>HMAC_SHA_224</c>.</summary>
    HmacSha224 = 1,
    /// <summary><c>HMAC_SHA_256</c>.</summary>
    HmacSha256,
    /// <summary><c>HMAC_SHA_384</c>.</summary>
    HmacSha384,
    /// <summary><c>HMAC_SHA_512</c>.</summary>
    HmacSha512,
}

/// <summary>Where a key's material came from (<c>Origin</c>).</summary>
public enum KeyOrigin
{
    /// <summary><c>AWS_KMS</c>: EnvelopeKms generated the material.</summary>
    AwsKms = 1,
    /// <summary><c>EXTERNAL</c>: the material is imported; the key starts in <see cref="KeyState.PendingImport"/>.</summary>
    External,
    /// <summary><c>AWS_CLOUDHSM</c>: the material lives in an HSM key store (not supported in this version).</summary>
    AwsCloudHsm,
    /// <summary><c>EXTERNAL_KEY_STORE</c>: the material lives in an external key store (not supported in this version).</summary>
    ExternalKeyStore,
}

/// <summary>Who manages a key (<c>KeyManager</c>).</summary>
public enum KeyManagerType
{
    /// <summary><c>CUSTOMER</c>: a customer-managed key.</summary>
    Customer = 1,
    /// <summary><c>AWS</c>: a key managed by an integration on the customer's behalf.</summary>
    Aws,
}

/// <summary>Encryption algorithms (<c>EncryptionAlgorithmSpec</c>).</summary>
public enum EncryptionAlgorithm
{
    /// <summary><c>SYMMETRIC_DEFAULT</c>: AES-256-GCM.</summary>
    SymmetricDefault = 1,
    /// <summary><c>RSAES_OAEP_SHA_1</c> (RSA keys only).</summary>
    RsaesOaepSha1,
    /// <summary><c>RSAES_OAEP_SHA_256</c> (RSA keys only).</summary>
    RsaesOaepSha256,
}

/// <summary>The length of a generated data key (<c>DataKeySpec</c>).</summary>
public enum DataKeySpec
{
    /// <summary><c>AES_256</c>: 32 bytes.</summary>
    Aes256 = 1,
    /// <summary><c>AES_128</c>: 16 bytes.</summary>
    Aes128,
}

/// <summary>The outcome recorded for an operation.</summary>
public enum KmsOutcome
{
    /// <summary>The operation succeeded.</summary>
    Success = 1,
    /// <summary>The operation failed (bad input, wrong state, corrupt ciphertext, storage error, ...).</summary>
    Failure,
    /// <summary>The caller was not authorized.</summary>
    Denied,
}
