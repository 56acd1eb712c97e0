using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Parameters;

namespace EnvelopeKms.Tests.Import;

/// <summary>Prepares key material for import exactly as a user would: platform RSA-OAEP and BouncyCastle's AES key wrap with padding.</summary>
internal static class ImportSupport
{
    /// <summary>Wraps <paramref name="material"/> to the import public key with <paramref name="algorithm"/>.</summary>
    public static byte[] Wrap(byte[] publicKeySpki, ImportWrappingAlgorithm algorithm, byte[] material)
    {
        using var rsa = RSA.Create();
        rsa.ImportSubjectPublicKeyInfo(publicKeySpki, out _);
        var padding = algorithm is ImportWrappingAlgorithm.RsaesOaepSha1 or ImportWrappingAlgorithm.RsaAesKeyWrapSha1 ? RSAEncryptionPadding.OaepSHA1 : RSAEncryptionPadding.OaepSHA256;
        if (algorithm is ImportWrappingAlgorithm.RsaesOaepSha1 or ImportWrappingAlgorithm.RsaesOaepSha256)
        {
            return rsa.Encrypt(material, padding);
        }

        var aesKey = RandomNumberGenerator.GetBytes(32);
        var engine = new AesWrapPadEngine();
        engine.Init(true, new KeyParameter(aesKey));
        var wrapped = engine.Wrap(material, 0, material.Length);
        return [.. rsa.Encrypt(aesKey, padding), .. wrapped];
    }

    /// <summary>Gets import parameters and imports <paramref name="material"/>; returns the material id.</summary>
    public static async Task<string> ImportAsync(this IKeyManager km, string keyId, byte[] material, DateTimeOffset? validTo = null,
        ImportWrappingAlgorithm algorithm = ImportWrappingAlgorithm.RsaesOaepSha256, WrappingKeySpec spec = WrappingKeySpec.Rsa2048, ImportType? importType = null,
        string? description = null, string? keyMaterialId = null)
    {
        var parameters = await km.GetParametersForImportAsync(new GetParametersForImportRequest { KeyId = keyId, WrappingAlgorithm = algorithm, WrappingKeySpec = spec }, TestContext.Current.CancellationToken);
        var response = await km.ImportKeyMaterialAsync(new ImportKeyMaterialRequest
        {
            KeyId = keyId,
            ImportToken = parameters.ImportToken,
            EncryptedKeyMaterial = Wrap(parameters.PublicKey, algorithm, material),
            ExpirationModel = validTo is null ? ExpirationModel.KeyMaterialDoesNotExpire : ExpirationModel.KeyMaterialExpires,
            ValidTo = validTo,
            ImportType = importType,
            KeyMaterialDescription = description,
            KeyMaterialId = keyMaterialId,
        }, TestContext.Current.CancellationToken);
        return response.KeyMaterialId;
    }
}
