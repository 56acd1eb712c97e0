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
    /// <summary><c>ENCAPSULATE_DECAPSULATE</c>: ML-KEM keys (encapsulation with the public key, decapsulation in the key manager).</summary>
    EncapsulateDecapsulate,
}

/// <summary>The type of key material (<c>KeySpec</c>). This version supports <see cref="SymmetricDefault"/>, the HMAC specs, and the asymmetric specs for <see cref="KeyUsage.SignVerify"/>, RSA for <see cref="KeyUsage.EncryptDecrypt"/>, the ECC curves for <see cref="KeyUsage.KeyAgreement"/> and ML-KEM for <see cref="KeyUsage.EncapsulateDecapsulate"/>.</summary>
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
    /// <summary><c>RSA_2048</c>: a 2048-bit RSA key pair (signing: RSASSA-PSS and PKCS#1 v1.5).</summary>
    Rsa2048,
    /// <summary><c>RSA_3072</c>: a 3072-bit RSA key pair.</summary>
    Rsa3072,
    /// <summary><c>RSA_4096</c>: a 4096-bit RSA key pair.</summary>
    Rsa4096,
    /// <summary><c>ECC_NIST_P256</c>: a P-256 key pair (<see cref="SigningAlgorithm.EcdsaSha256"/>).</summary>
    EccNistP256,
    /// <summary><c>ECC_NIST_P384</c>: a P-384 key pair (<see cref="SigningAlgorithm.EcdsaSha384"/>).</summary>
    EccNistP384,
    /// <summary><c>ECC_NIST_P521</c>: a P-521 key pair (<see cref="SigningAlgorithm.EcdsaSha512"/>).</summary>
    EccNistP521,
    /// <summary><c>ECC_SECG_P256K1</c>: a secp256k1 key pair (<see cref="SigningAlgorithm.EcdsaSha256"/>).</summary>
    EccSecgP256k1,
    /// <summary><c>ECC_NIST_EDWARDS25519</c>: an Ed25519 key pair (<see cref="SigningAlgorithm.Ed25519Sha512"/>, <see cref="SigningAlgorithm.Ed25519PhSha512"/>).</summary>
    EccNistEdwards25519,
    /// <summary><c>ML_DSA_44</c>: an ML-DSA-44 key pair (FIPS 204; <see cref="SigningAlgorithm.MlDsaShake256"/>).</summary>
    MlDsa44,
    /// <summary><c>ML_DSA_65</c>: an ML-DSA-65 key pair.</summary>
    MlDsa65,
    /// <summary><c>ML_DSA_87</c>: an ML-DSA-87 key pair.</summary>
    MlDsa87,
    /// <summary><c>ML_KEM_512</c>: an ML-KEM-512 key pair (FIPS 203; <see cref="KeyUsage.EncapsulateDecapsulate"/>).</summary>
    MlKem512,
    /// <summary><c>ML_KEM_768</c>: an ML-KEM-768 key pair.</summary>
    MlKem768,
    /// <summary><c>ML_KEM_1024</c>: an ML-KEM-1024 key pair.</summary>
    MlKem1024,
}

/// <summary>Signing algorithms of asymmetric <see cref="KeyUsage.SignVerify"/> keys (<c>SigningAlgorithmSpec</c>).</summary>
public enum SigningAlgorithm
{
    /// <summary><c>RSASSA_PSS_SHA_256</c>: RSASSA-PSS, SHA-256, MGF1 with SHA-256, salt length 32.</summary>
    RsassaPssSha256 = 1,
    /// <summary><c>RSASSA_PSS_SHA_384</c>.</summary>
    RsassaPssSha384,
    /// <summary><c>RSASSA_PSS_SHA_512</c>.</summary>
    RsassaPssSha512,
    /// <summary><c>RSASSA_PKCS1_V1_5_SHA_256</c>.</summary>
    RsassaPkcs1V15Sha256,
    /// <summary><c>RSASSA_PKCS1_V1_5_SHA_384</c>.</summary>
    RsassaPkcs1V15Sha384,
    /// <summary><c>RSASSA_PKCS1_V1_5_SHA_512</c>.</summary>
    RsassaPkcs1V15Sha512,
    /// <summary><c>ECDSA_SHA_256</c> (ECC_NIST_P256, ECC_SECG_P256K1); signatures are DER.</summary>
    EcdsaSha256,
    /// <summary><c>ECDSA_SHA_384</c> (ECC_NIST_P384).</summary>
    EcdsaSha384,
    /// <summary><c>ECDSA_SHA_512</c> (ECC_NIST_P521).</summary>
    EcdsaSha512,
    /// <summary><c>ED25519_SHA_512</c>: pure Ed25519 (RFC 8032), RAW messages only.</summary>
    Ed25519Sha512,
    /// <summary><c>ED25519_PH_SHA_512</c>: Ed25519ph, a RAW message or a SHA-512 DIGEST.</summary>
    Ed25519PhSha512,
    /// <summary><c>ML_DSA_SHAKE_256</c>: ML-DSA (FIPS 204, pure, empty context).</summary>
    MlDsaShake256,
}

/// <summary>How <c>Sign</c> and <c>Verify</c> read the message (<c>MessageType</c>).</summary>
public enum MessageType
{
    /// <summary><c>RAW</c>: the message itself, at most 4096 bytes; it is hashed as the algorithm says.</summary>
    Raw = 1,
    /// <summary><c>DIGEST</c>: a digest already made with the algorithm's hash; its length must be that hash's.</summary>
    Digest,
    /// <summary>
    /// <c>EXTERNAL_MU</c>: the ML-DSA µ (exactly 64 bytes, FIPS 204's message representative). Signed and
    /// verified through the platform's <c>MLDsa</c>, which needs OpenSSL 3.5 or later; elsewhere
    /// <see cref="KmsUnsupportedOperationException"/>.
    /// </summary>
    ExternalMu,
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
    /// <summary>
    /// <c>AWS</c>: a <em>managed</em> key, created by an integration on the customer's behalf under the alias
    /// <c>alias/managed/&lt;service&gt;</c> (the analogue of AWS's <c>alias/aws/&lt;service&gt;</c>). It
    /// rotates every year and cannot be disabled, deleted, re-described, tagged or have its rotation changed.
    /// </summary>
    Aws,
    /// <summary>
    /// An <em>owned</em> key: used internally by EnvelopeKms components and never shown. No public
    /// operation finds it (they fail with <c>NotFoundException</c>), <c>ListKeys</c> never lists it. Not an
    /// AWS KMS value (AWS owned keys are invisible in the same way).
    /// </summary>
    Owned,
}

/// <summary>How a key-material version came to be (<c>RotationType</c>).</summary>
public enum KeyRotationType
{
    /// <summary><c>AUTOMATIC</c>: by the key's rotation schedule or by its encryption-count cap.</summary>
    Automatic = 1,
    /// <summary><c>ON_DEMAND</c>: by <c>RotateKeyOnDemand</c>.</summary>
    OnDemand,
}

/// <summary>Whether a key-material version encrypts (<c>KeyMaterialState</c>).</summary>
public enum KeyMaterialState
{
    /// <summary><c>CURRENT</c>: used for new encryptions, and for decryption.</summary>
    Current = 1,
    /// <summary><c>NON_CURRENT</c>: used only to decrypt what it encrypted.</summary>
    NonCurrent,
    /// <summary><c>PENDING_ROTATION</c>: imported with <c>NEW_KEY_MATERIAL</c> and waiting for <c>RotateKeyOnDemand</c> to become current; not used yet.</summary>
    PendingRotation,
}

/// <summary>Which material versions <c>ListKeyRotations</c> lists (<c>IncludeKeyMaterial</c>).</summary>
public enum IncludeKeyMaterial
{
    /// <summary><c>ROTATIONS_ONLY</c> (default): the versions that rotations created.</summary>
    RotationsOnly = 1,
    /// <summary><c>ALL_KEY_MATERIAL</c>: the key's first material too.</summary>
    AllKeyMaterial,
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

/// <summary>Key agreement algorithms of asymmetric <see cref="KeyUsage.KeyAgreement"/> keys (<c>KeyAgreementAlgorithmSpec</c>).</summary>
public enum KeyAgreementAlgorithm
{
    /// <summary><c>ECDH</c>: elliptic-curve Diffie-Hellman; the shared secret is the raw x-coordinate.</summary>
    Ecdh = 1,
}

/// <summary>The length of a generated data key (<c>DataKeySpec</c>).</summary>
public enum DataKeySpec
{
    /// <summary><c>AES_256</c>: 32 bytes.</summary>
    Aes256 = 1,
    /// <summary><c>AES_128</c>: 16 bytes.</summary>
    Aes128,
}

/// <summary>
/// The type of a data key pair (<c>DataKeyPairSpec</c>) that <c>GenerateDataKeyPair</c> returns. AWS KMS's
/// <c>SM2</c> (China Regions only) is not offered: <see cref="KmsNames.ParseDataKeyPairSpec"/> reports it as
/// unsupported. The <c>ML_KEM_*</c> specs go beyond AWS KMS, which offers no ML-KEM data key pairs.
/// </summary>
public enum DataKeyPairSpec
{
    /// <summary><c>RSA_2048</c>.</summary>
    Rsa2048 = 1,
    /// <summary><c>RSA_3072</c>.</summary>
    Rsa3072,
    /// <summary><c>RSA_4096</c>.</summary>
    Rsa4096,
    /// <summary><c>ECC_NIST_P256</c>.</summary>
    EccNistP256,
    /// <summary><c>ECC_NIST_P384</c>.</summary>
    EccNistP384,
    /// <summary><c>ECC_NIST_P521</c>.</summary>
    EccNistP521,
    /// <summary><c>ECC_SECG_P256K1</c>.</summary>
    EccSecgP256k1,
    /// <summary><c>ECC_NIST_EDWARDS25519</c>: an Ed25519 key pair (RFC 8410 encodings).</summary>
    EccNistEdwards25519,
    /// <summary><c>ML_KEM_512</c> (FIPS 203; an EnvelopeKms extension): PKCS#8 and SubjectPublicKeyInfo with the id-alg-ml-kem OIDs.</summary>
    MlKem512,
    /// <summary><c>ML_KEM_768</c> (an EnvelopeKms extension).</summary>
    MlKem768,
    /// <summary><c>ML_KEM_1024</c> (an EnvelopeKms extension).</summary>
    MlKem1024,
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
