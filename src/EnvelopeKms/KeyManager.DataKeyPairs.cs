using EnvelopeKms.Cryptography;
using System.Security.Cryptography;
using EnvelopeKms.KeyManagement;
using EnvelopeKms.Storage;

namespace EnvelopeKms;

/// <summary><c>GenerateDataKeyPair</c> and <c>GenerateDataKeyPairWithoutPlaintext</c>.</summary>
public sealed partial class KeyManager
{
    /// <inheritdoc />
    public Task<GenerateDataKeyPairResponse> GenerateDataKeyPairAsync(GenerateDataKeyPairRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.GenerateDataKeyPair, request, async ctx =>
        {
            await VerifyRecipientAsync(ctx, request.Recipient, cancellationToken).ConfigureAwait(false);
            var pair = await GenerateDataKeyPairCoreAsync(ctx, KmsOperation.GenerateDataKeyPair, request, cancellationToken).ConfigureAwait(false);
            var privateKey = pair.PrivateKey;
            var forRecipient = SealForRecipient(ctx, ref privateKey);
            return new GenerateDataKeyPairResponse
            {
                PrivateKeyPlaintext = privateKey,
                CiphertextForRecipient = forRecipient,
                PrivateKeyCiphertextBlob = pair.Blob,
                PublicKey = pair.PublicKey,
                KeyId = _ids.KeyArn(pair.Key.KeyId),
                KeyMaterialId = pair.MaterialId,
                KeyPairSpec = request.KeyPairSpec,
            };
        });
    }

    /// <inheritdoc />
    public Task<GenerateDataKeyPairWithoutPlaintextResponse> GenerateDataKeyPairWithoutPlaintextAsync(GenerateDataKeyPairRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.GenerateDataKeyPairWithoutPlaintext, request, async ctx =>
        {
            if (request.Recipient is not null)
            {
                throw new KmsValidationException("GenerateDataKeyPairWithoutPlaintext does not take a Recipient; use GenerateDataKeyPair.");
            }

            var pair = await GenerateDataKeyPairCoreAsync(ctx, KmsOperation.GenerateDataKeyPairWithoutPlaintext, request, cancellationToken).ConfigureAwait(false);
            CryptographicOperations.ZeroMemory(pair.PrivateKey);
            return new GenerateDataKeyPairWithoutPlaintextResponse
            {
                PrivateKeyCiphertextBlob = pair.Blob,
                PublicKey = pair.PublicKey,
                KeyId = _ids.KeyArn(pair.Key.KeyId),
                KeyMaterialId = pair.MaterialId,
                KeyPairSpec = request.KeyPairSpec,
            };
        });
    }

    /// <summary>
    /// Validates, resolves and checks the wrapping key, then generates the pair with the same primitives as
    /// <c>CreateKey</c> and encrypts the PKCS#8 exactly as <c>GenerateDataKey</c> encrypts a data key.
    /// </summary>
    private async Task<(byte[] PrivateKey, byte[] PublicKey, byte[] Blob, KeyRecord Key, string MaterialId)> GenerateDataKeyPairCoreAsync(
        OperationContext ctx, KmsOperation operation, GenerateDataKeyPairRequest request, CancellationToken cancellationToken)
    {
        ctx.EncryptionContext = request.EncryptionContext;
        var spec = KeySpecOf(request.KeyPairSpec);
        if (_fipsOnly)
        {
            CryptoProvenance.RequireAllowedForNewKey(spec);
        }

        var context = EncryptionContextEncoding.Encode(request.EncryptionContext);
        var key = await UseKeyAsync(ctx, operation, request.KeyId, nameof(request.KeyId), allowAlias: true, cancellationToken).ConfigureAwait(false);

        // Checked before the (for RSA, slow) key generation; EncryptCoreAsync checks again.
        RequireSymmetricEncryptionKey(key);
        var (privateKey, publicKey) = KeySpecs.GenerateAsymmetricKeyPair(spec);
        try
        {
            var (blob, materialId) = await EncryptCoreAsync(ctx, key, privateKey, context, cancellationToken).ConfigureAwait(false);
            return (privateKey, publicKey, blob, key, materialId);
        }
        catch
        {
            CryptographicOperations.ZeroMemory(privateKey);
            throw;
        }
    }

    /// <summary>The key spec whose generator (the one <c>CreateKey</c> uses) makes a data key pair of <paramref name="spec"/>.</summary>
    private static KeySpec KeySpecOf(DataKeyPairSpec spec) => spec switch
    {
        DataKeyPairSpec.Rsa2048 => KeySpec.Rsa2048,
        DataKeyPairSpec.Rsa3072 => KeySpec.Rsa3072,
        DataKeyPairSpec.Rsa4096 => KeySpec.Rsa4096,
        DataKeyPairSpec.EccNistP256 => KeySpec.EccNistP256,
        DataKeyPairSpec.EccNistP384 => KeySpec.EccNistP384,
        DataKeyPairSpec.EccNistP521 => KeySpec.EccNistP521,
        DataKeyPairSpec.EccSecgP256k1 => KeySpec.EccSecgP256k1,
        DataKeyPairSpec.EccNistEdwards25519 => KeySpec.EccNistEdwards25519,
        DataKeyPairSpec.MlKem512 => KeySpec.MlKem512,
        DataKeyPairSpec.MlKem768 => KeySpec.MlKem768,
        DataKeyPairSpec.MlKem1024 => KeySpec.MlKem1024,
        _ => throw new KmsValidationException("KeyPairSpec is not a known data key pair spec."),
    };
}
