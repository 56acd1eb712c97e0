// The overloads with optional parameters are the shape of IAmazonKeyManagementService itself.
#pragma warning disable RS0026
using static EnvelopeKms.AwsSdk.AwsMapping;
using Sdk = Amazon.KeyManagementService;
using Aws = Amazon.KeyManagementService.Model;

namespace EnvelopeKms.AwsSdk;

// Cryptographic operations: encryption, data keys, MACs, signatures, key agreement and ML-KEM.
public sealed partial class EnvelopeKmsAmazonClient
{
    /// <summary>A secret for a recipient is returned only as <c>CiphertextForRecipient</c>; the plaintext field is then absent, as in KMS.</summary>
    private static MemoryStream? Secret(byte[] plaintext, byte[]? ciphertextForRecipient)
        => ciphertextForRecipient is not null && plaintext.Length == 0 ? null : Stream(plaintext);

    /// <inheritdoc />
    public Task<Aws.EncryptResponse> EncryptAsync(Aws.EncryptRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Translate(async () =>
        {
            using var plaintext = Bytes(Required(request.Plaintext, "Plaintext"));
            var response = await _keyManager.EncryptAsync(new EncryptRequest
            {
                Caller = _caller,
                KeyId = Required(request.KeyId, "KeyId"),
                Plaintext = plaintext.Memory,
                EncryptionContext = Context(request.EncryptionContext),
                EncryptionAlgorithm = Encryption(request.EncryptionAlgorithm, "EncryptionAlgorithm"),
                GrantTokens = Tokens(request.GrantTokens),
                DryRun = request.DryRun ?? false,
            }, cancellationToken).ConfigureAwait(false);
            return Ok(new Aws.EncryptResponse
            {
                CiphertextBlob = Stream(response.CiphertextBlob),
                KeyId = response.KeyId,
                EncryptionAlgorithm = Sdk.EncryptionAlgorithmSpec.FindValue(response.EncryptionAlgorithm.ToKmsName()),
            });
        });
    }

    /// <inheritdoc />
    public Task<Aws.DecryptResponse> DecryptAsync(Aws.DecryptRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Translate(async () =>
        {
            RefuseDryRunModifiers(request.DryRunModifiers);
            using var ciphertext = Bytes(Required(request.CiphertextBlob, "CiphertextBlob"));
            var response = await _keyManager.DecryptAsync(new DecryptRequest
            {
                Caller = _caller,
                CiphertextBlob = ciphertext.Memory,
                KeyId = request.KeyId,
                EncryptionContext = Context(request.EncryptionContext),
                EncryptionAlgorithm = Encryption(request.EncryptionAlgorithm, "EncryptionAlgorithm"),
                Recipient = Recipient(request.Recipient),
                GrantTokens = Tokens(request.GrantTokens),
                DryRun = request.DryRun ?? false,
            }, cancellationToken).ConfigureAwait(false);
            return Ok(new Aws.DecryptResponse
            {
                Plaintext = Secret(response.Plaintext, response.CiphertextForRecipient),
                CiphertextForRecipient = Stream(response.CiphertextForRecipient),
                KeyId = response.KeyId,
                KeyMaterialId = response.KeyMaterialId,
                EncryptionAlgorithm = Sdk.EncryptionAlgorithmSpec.FindValue(response.EncryptionAlgorithm.ToKmsName()),
            });
        });
    }

    /// <inheritdoc />
    public Task<Aws.ReEncryptResponse> ReEncryptAsync(Aws.ReEncryptRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Translate(async () =>
        {
            RefuseDryRunModifiers(request.DryRunModifiers);
            using var ciphertext = Bytes(Required(request.CiphertextBlob, "CiphertextBlob"));
            var response = await _keyManager.ReEncryptAsync(new ReEncryptRequest
            {
                Caller = _caller,
                CiphertextBlob = ciphertext.Memory,
                SourceKeyId = request.SourceKeyId,
                SourceEncryptionContext = Context(request.SourceEncryptionContext),
                SourceEncryptionAlgorithm = Encryption(request.SourceEncryptionAlgorithm, "SourceEncryptionAlgorithm"),
                DestinationKeyId = Required(request.DestinationKeyId, "DestinationKeyId"),
                DestinationEncryptionContext = Context(request.DestinationEncryptionContext),
                DestinationEncryptionAlgorithm = Encryption(request.DestinationEncryptionAlgorithm, "DestinationEncryptionAlgorithm"),
                GrantTokens = Tokens(request.GrantTokens),
                DryRun = request.DryRun ?? false,
            }, cancellationToken).ConfigureAwait(false);
            return Ok(new Aws.ReEncryptResponse
            {
                CiphertextBlob = Stream(response.CiphertextBlob),
                SourceKeyId = response.SourceKeyId,
                KeyId = response.KeyId,
                SourceKeyMaterialId = response.SourceKeyMaterialId,
                DestinationKeyMaterialId = response.DestinationKeyMaterialId,
                SourceEncryptionAlgorithm = Sdk.EncryptionAlgorithmSpec.FindValue(response.SourceEncryptionAlgorithm.ToKmsName()),
                DestinationEncryptionAlgorithm = Sdk.EncryptionAlgorithmSpec.FindValue(response.DestinationEncryptionAlgorithm.ToKmsName()),
            });
        });
    }

    /// <inheritdoc />
    public Task<Aws.GenerateDataKeyResponse> GenerateDataKeyAsync(Aws.GenerateDataKeyRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Translate(async () =>
        {
            var response = await _keyManager.GenerateDataKeyAsync(new GenerateDataKeyRequest
            {
                Caller = _caller,
                KeyId = Required(request.KeyId, "KeyId"),
                KeySpec = Parse<DataKeySpec>(request.KeySpec, "KeySpec", static v => v.ToKmsName()),
                NumberOfBytes = request.NumberOfBytes,
                EncryptionContext = Context(request.EncryptionContext),
                Recipient = Recipient(request.Recipient),
                GrantTokens = Tokens(request.GrantTokens),
                DryRun = request.DryRun ?? false,
            }, cancellationToken).ConfigureAwait(false);
            return Ok(new Aws.GenerateDataKeyResponse
            {
                Plaintext = Secret(response.Plaintext, response.CiphertextForRecipient),
                CiphertextForRecipient = Stream(response.CiphertextForRecipient),
                CiphertextBlob = Stream(response.CiphertextBlob),
                KeyId = response.KeyId,
                KeyMaterialId = response.KeyMaterialId,
            });
        });
    }

    /// <inheritdoc />
    public Task<Aws.GenerateDataKeyWithoutPlaintextResponse> GenerateDataKeyWithoutPlaintextAsync(Aws.GenerateDataKeyWithoutPlaintextRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Translate(async () =>
        {
            var response = await _keyManager.GenerateDataKeyWithoutPlaintextAsync(new GenerateDataKeyRequest
            {
                Caller = _caller,
                KeyId = Required(request.KeyId, "KeyId"),
                KeySpec = Parse<DataKeySpec>(request.KeySpec, "KeySpec", static v => v.ToKmsName()),
                NumberOfBytes = request.NumberOfBytes,
                EncryptionContext = Context(request.EncryptionContext),
                GrantTokens = Tokens(request.GrantTokens),
                DryRun = request.DryRun ?? false,
            }, cancellationToken).ConfigureAwait(false);
            return Ok(new Aws.GenerateDataKeyWithoutPlaintextResponse
            {
                CiphertextBlob = Stream(response.CiphertextBlob),
                KeyId = response.KeyId,
                KeyMaterialId = response.KeyMaterialId,
            });
        });
    }

    /// <inheritdoc />
    public Task<Aws.GenerateDataKeyPairResponse> GenerateDataKeyPairAsync(Aws.GenerateDataKeyPairRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Translate(async () =>
        {
            var response = await _keyManager.GenerateDataKeyPairAsync(new GenerateDataKeyPairRequest
            {
                Caller = _caller,
                KeyId = Required(request.KeyId, "KeyId"),
                KeyPairSpec = Parse<DataKeyPairSpec>(Required(request.KeyPairSpec, "KeyPairSpec"), "KeyPairSpec", static v => v.ToKmsName())!.Value,
                EncryptionContext = Context(request.EncryptionContext),
                Recipient = Recipient(request.Recipient),
                GrantTokens = Tokens(request.GrantTokens),
                DryRun = request.DryRun ?? false,
            }, cancellationToken).ConfigureAwait(false);
            return Ok(new Aws.GenerateDataKeyPairResponse
            {
                PrivateKeyPlaintext = Secret(response.PrivateKeyPlaintext, response.CiphertextForRecipient),
                CiphertextForRecipient = Stream(response.CiphertextForRecipient),
                PrivateKeyCiphertextBlob = Stream(response.PrivateKeyCiphertextBlob),
                PublicKey = Stream(response.PublicKey),
                KeyId = response.KeyId,
                KeyMaterialId = response.KeyMaterialId,
                KeyPairSpec = Sdk.DataKeyPairSpec.FindValue(response.KeyPairSpec.ToKmsName()),
            });
        });
    }

    /// <inheritdoc />
    public Task<Aws.GenerateDataKeyPairWithoutPlaintextResponse> GenerateDataKeyPairWithoutPlaintextAsync(Aws.GenerateDataKeyPairWithoutPlaintextRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Translate(async () =>
        {
            var response = await _keyManager.GenerateDataKeyPairWithoutPlaintextAsync(new GenerateDataKeyPairRequest
            {
                Caller = _caller,
                KeyId = Required(request.KeyId, "KeyId"),
                KeyPairSpec = Parse<DataKeyPairSpec>(Required(request.KeyPairSpec, "KeyPairSpec"), "KeyPairSpec", static v => v.ToKmsName())!.Value,
                EncryptionContext = Context(request.EncryptionContext),
                GrantTokens = Tokens(request.GrantTokens),
                DryRun = request.DryRun ?? false,
            }, cancellationToken).ConfigureAwait(false);
            return Ok(new Aws.GenerateDataKeyPairWithoutPlaintextResponse
            {
                PrivateKeyCiphertextBlob = Stream(response.PrivateKeyCiphertextBlob),
                PublicKey = Stream(response.PublicKey),
                KeyId = response.KeyId,
                KeyMaterialId = response.KeyMaterialId,
                KeyPairSpec = Sdk.DataKeyPairSpec.FindValue(response.KeyPairSpec.ToKmsName()),
            });
        });
    }

    /// <inheritdoc />
    public Task<Aws.GenerateRandomResponse> GenerateRandomAsync(int? numberOfBytes, CancellationToken cancellationToken = default)
        => GenerateRandomAsync(new Aws.GenerateRandomRequest { NumberOfBytes = numberOfBytes }, cancellationToken);

    /// <inheritdoc />
    public Task<Aws.GenerateRandomResponse> GenerateRandomAsync(Aws.GenerateRandomRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Translate(async () =>
        {
            if (!string.IsNullOrEmpty(request.CustomKeyStoreId))
            {
                throw new KmsUnsupportedOperationException(
                    "GenerateRandom with a CustomKeyStoreId is not supported: random bytes come from the platform's CSPRNG, not from a key store's HSM.");
            }

            var response = await _keyManager.GenerateRandomAsync(new GenerateRandomRequest
            {
                Caller = _caller,
                NumberOfBytes = request.NumberOfBytes ?? throw new KmsValidationException("1 validation error detected: Value null at 'numberOfBytes' failed to satisfy constraint: Member must not be null."),
                Recipient = Recipient(request.Recipient),
            }, cancellationToken).ConfigureAwait(false);
            return Ok(new Aws.GenerateRandomResponse
            {
                Plaintext = Secret(response.Plaintext, response.CiphertextForRecipient),
                CiphertextForRecipient = Stream(response.CiphertextForRecipient),
            });
        });
    }

    /// <inheritdoc />
    public Task<Aws.GenerateMacResponse> GenerateMacAsync(Aws.GenerateMacRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Translate(async () =>
        {
            using var message = Bytes(Required(request.Message, "Message"));
            var response = await _keyManager.GenerateMacAsync(new GenerateMacRequest
            {
                Caller = _caller,
                KeyId = Required(request.KeyId, "KeyId"),
                Message = message.Memory,
                MacAlgorithm = Parse<MacAlgorithm>(Required(request.MacAlgorithm, "MacAlgorithm"), "MacAlgorithm", static v => v.ToKmsName())!.Value,
                GrantTokens = Tokens(request.GrantTokens),
                DryRun = request.DryRun ?? false,
            }, cancellationToken).ConfigureAwait(false);
            return Ok(new Aws.GenerateMacResponse
            {
                Mac = Stream(response.Mac),
                MacAlgorithm = Sdk.MacAlgorithmSpec.FindValue(response.MacAlgorithm.ToKmsName()),
                KeyId = response.KeyId,
            });
        });
    }

    /// <inheritdoc />
    /// <remarks>As in KMS, a MAC that does not verify is <see cref="Aws.KMSInvalidMacException"/>, never <c>MacValid = false</c>.</remarks>
    public Task<Aws.VerifyMacResponse> VerifyMacAsync(Aws.VerifyMacRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Translate(async () =>
        {
            using var message = Bytes(Required(request.Message, "Message"));
            using var mac = Bytes(Required(request.Mac, "Mac"));
            var response = await _keyManager.VerifyMacAsync(new VerifyMacRequest
            {
                Caller = _caller,
                KeyId = Required(request.KeyId, "KeyId"),
                Message = message.Memory,
                Mac = mac.Memory,
                MacAlgorithm = Parse<MacAlgorithm>(Required(request.MacAlgorithm, "MacAlgorithm"), "MacAlgorithm", static v => v.ToKmsName())!.Value,
                GrantTokens = Tokens(request.GrantTokens),
                DryRun = request.DryRun ?? false,
            }, cancellationToken).ConfigureAwait(false);
            if (!response.MacValid && !(request.DryRun ?? false))
            {
                throw AwsErrors.Create("KMSInvalidMacException", "The request was rejected because the HMAC verification failed.");
            }

            return Ok(new Aws.VerifyMacResponse
            {
                MacValid = response.MacValid,
                MacAlgorithm = Sdk.MacAlgorithmSpec.FindValue(response.MacAlgorithm.ToKmsName()),
                KeyId = response.KeyId,
            });
        });
    }

    /// <inheritdoc />
    public Task<Aws.SignResponse> SignAsync(Aws.SignRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Translate(async () =>
        {
            using var message = Bytes(Required(request.Message, "Message"));
            var response = await _keyManager.SignAsync(new SignRequest
            {
                Caller = _caller,
                KeyId = Required(request.KeyId, "KeyId"),
                Message = message.Memory,
                MessageType = Parse<MessageType>(request.MessageType, "MessageType", static v => v.ToKmsName()) ?? MessageType.Raw,
                SigningAlgorithm = Parse<SigningAlgorithm>(Required(request.SigningAlgorithm, "SigningAlgorithm"), "SigningAlgorithm", static v => v.ToKmsName())!.Value,
                GrantTokens = Tokens(request.GrantTokens),
                DryRun = request.DryRun ?? false,
            }, cancellationToken).ConfigureAwait(false);
            return Ok(new Aws.SignResponse
            {
                Signature = Stream(response.Signature),
                SigningAlgorithm = Sdk.SigningAlgorithmSpec.FindValue(response.SigningAlgorithm.ToKmsName()),
                KeyId = response.KeyId,
            });
        });
    }

    /// <inheritdoc />
    /// <remarks>As in KMS, a signature that does not verify is <see cref="Aws.KMSInvalidSignatureException"/>, never <c>SignatureValid = false</c>.</remarks>
    public Task<Aws.VerifyResponse> VerifyAsync(Aws.VerifyRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Translate(async () =>
        {
            using var message = Bytes(Required(request.Message, "Message"));
            using var signature = Bytes(Required(request.Signature, "Signature"));
            var response = await _keyManager.VerifyAsync(new VerifyRequest
            {
                Caller = _caller,
                KeyId = Required(request.KeyId, "KeyId"),
                Message = message.Memory,
                MessageType = Parse<MessageType>(request.MessageType, "MessageType", static v => v.ToKmsName()) ?? MessageType.Raw,
                Signature = signature.Memory,
                SigningAlgorithm = Parse<SigningAlgorithm>(Required(request.SigningAlgorithm, "SigningAlgorithm"), "SigningAlgorithm", static v => v.ToKmsName())!.Value,
                GrantTokens = Tokens(request.GrantTokens),
                DryRun = request.DryRun ?? false,
            }, cancellationToken).ConfigureAwait(false);
            if (!response.SignatureValid && !(request.DryRun ?? false))
            {
                throw AwsErrors.Create("KMSInvalidSignatureException", "The request was rejected because the signature verification failed.");
            }

            return Ok(new Aws.VerifyResponse
            {
                SignatureValid = response.SignatureValid,
                SigningAlgorithm = Sdk.SigningAlgorithmSpec.FindValue(response.SigningAlgorithm.ToKmsName()),
                KeyId = response.KeyId,
            });
        });
    }

    /// <inheritdoc />
    public Task<Aws.GetPublicKeyResponse> GetPublicKeyAsync(Aws.GetPublicKeyRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Translate(async () =>
        {
            var response = await _keyManager.GetPublicKeyAsync(new GetPublicKeyRequest
            {
                Caller = _caller,
                KeyId = Required(request.KeyId, "KeyId"),
                GrantTokens = Tokens(request.GrantTokens),
            }, cancellationToken).ConfigureAwait(false);
            return Ok(new Aws.GetPublicKeyResponse
            {
                KeyId = response.KeyId,
                PublicKey = Stream(response.PublicKey),
                KeySpec = Sdk.KeySpec.FindValue(response.KeySpec.ToKmsName()),
#pragma warning disable CS0618 // CustomerMasterKeySpec is deprecated in favour of KeySpec, but KMS still returns it.
                CustomerMasterKeySpec = Sdk.CustomerMasterKeySpec.FindValue(response.KeySpec.ToKmsName()),
#pragma warning restore CS0618
                KeyUsage = Sdk.KeyUsageType.FindValue(response.KeyUsage.ToKmsName()),
                SigningAlgorithms = Names(response.SigningAlgorithms, static v => v.ToKmsName()),
                EncryptionAlgorithms = Names(response.EncryptionAlgorithms, static v => v.ToKmsName()),
                KeyAgreementAlgorithms = Names(response.KeyAgreementAlgorithms, static v => v.ToKmsName()),
                EncapsulationAlgorithms = response.KeyUsage == KeyUsage.EncapsulateDecapsulate ? ["ML_KEM"] : null,
            });
        });
    }

    /// <inheritdoc />
    public Task<Aws.DeriveSharedSecretResponse> DeriveSharedSecretAsync(Aws.DeriveSharedSecretRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Translate(async () =>
        {
            using var publicKey = Bytes(Required(request.PublicKey, "PublicKey"));
            var response = await _keyManager.DeriveSharedSecretAsync(new DeriveSharedSecretRequest
            {
                Caller = _caller,
                KeyId = Required(request.KeyId, "KeyId"),
                KeyAgreementAlgorithm = Parse<KeyAgreementAlgorithm>(Required(request.KeyAgreementAlgorithm, "KeyAgreementAlgorithm"), "KeyAgreementAlgorithm", static v => v.ToKmsName())!.Value,
                PublicKey = publicKey.Memory,
                Recipient = Recipient(request.Recipient),
                GrantTokens = Tokens(request.GrantTokens),
                DryRun = request.DryRun ?? false,
            }, cancellationToken).ConfigureAwait(false);
            return Ok(new Aws.DeriveSharedSecretResponse
            {
                SharedSecret = Secret(response.SharedSecret, response.CiphertextForRecipient),
                CiphertextForRecipient = Stream(response.CiphertextForRecipient),
                KeyId = response.KeyId,
                KeyAgreementAlgorithm = Sdk.KeyAgreementAlgorithmSpec.FindValue(response.KeyAgreementAlgorithm.ToKmsName()),
                KeyOrigin = Sdk.OriginType.FindValue(response.KeyOrigin.ToKmsName()),
            });
        });
    }

    /// <inheritdoc />
    public Task<Aws.EncapsulateResponse> EncapsulateAsync(Aws.EncapsulateRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Translate(async () =>
        {
            RefuseEncapsulationAlgorithm(request.EncapsulationAlgorithm);
            var response = await _keyManager.EncapsulateAsync(new EncapsulateRequest
            {
                Caller = _caller,
                KeyId = Required(request.KeyId, "KeyId"),
                GrantTokens = Tokens(request.GrantTokens),
                DryRun = request.DryRun ?? false,
            }, cancellationToken).ConfigureAwait(false);
            return Ok(new Aws.EncapsulateResponse
            {
                SharedSecret = Stream(response.SharedSecret),
                SharedSecretCiphertextBlob = Stream(response.Ciphertext),
                KeyId = response.KeyId,
                EncapsulationAlgorithm = Sdk.EncapsulationAlgorithmSpec.ML_KEM,
            });
        });
    }

    /// <inheritdoc />
    public Task<Aws.DecapsulateResponse> DecapsulateAsync(Aws.DecapsulateRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Translate(async () =>
        {
            RefuseEncapsulationAlgorithm(request.EncapsulationAlgorithm);
            using var ciphertext = Bytes(Required(request.SharedSecretCiphertextBlob, "SharedSecretCiphertextBlob"));
            var response = await _keyManager.DecapsulateAsync(new DecapsulateRequest
            {
                Caller = _caller,
                KeyId = Required(request.KeyId, "KeyId"),
                Ciphertext = ciphertext.Memory,
                GrantTokens = Tokens(request.GrantTokens),
                DryRun = request.DryRun ?? false,
            }, cancellationToken).ConfigureAwait(false);
            return Ok(new Aws.DecapsulateResponse
            {
                SharedSecret = Stream(response.SharedSecret),
                KeyId = response.KeyId,
                EncapsulationAlgorithm = Sdk.EncapsulationAlgorithmSpec.ML_KEM,
            });
        });
    }

    private static void RefuseEncapsulationAlgorithm(Amazon.Runtime.ConstantClass? algorithm)
    {
        if (algorithm is not null && algorithm.Value != "ML_KEM")
        {
            _ = Parse<EncapsulationAlgorithm>(algorithm, "EncapsulationAlgorithm", static _ => "ML_KEM");
        }
    }

    private enum EncapsulationAlgorithm
    {
        MlKem = 1,
    }
}
