using System.Security.Cryptography;
using Amazon.Runtime;
using EnvelopeKms.CustomKeyStores;
using Sdk = Amazon.KeyManagementService;
using Aws = Amazon.KeyManagementService.Model;

namespace EnvelopeKms.AwsSdk;

/// <summary>Conversions between the AWS SDK's model and EnvelopeKms' model. Bad input becomes a <see cref="KmsValidationException"/> naming the parameter.</summary>
internal static class AwsMapping
{
    public static string Required(string? value, string parameter)
        => string.IsNullOrEmpty(value)
            ? throw new KmsValidationException($"1 validation error detected: Value null at '{Camel(parameter)}' failed to satisfy constraint: Member must not be null.")
            : value;

    public static T Required<T>(T? value, string parameter)
        where T : class
        => value ?? throw new KmsValidationException($"1 validation error detected: Value null at '{Camel(parameter)}' failed to satisfy constraint: Member must not be null.");

    private static string Camel(string name) => name.Length == 0 ? name : char.ToLowerInvariant(name[0]) + name[1..];

    /// <summary>Parses a wire name into an EnvelopeKms enumeration by its AWS name; <see langword="null"/> when not given.</summary>
    public static T? Parse<T>(ConstantClass? value, string parameter, Func<T, string> toName)
        where T : struct, Enum
        => value is null ? null : Parse(value.Value, parameter, toName);

    public static T? Parse<T>(string? value, string parameter, Func<T, string> toName)
        where T : struct, Enum
    {
        if (value is null)
        {
            return null;
        }

        foreach (var candidate in Enum.GetValues<T>())
        {
            if (string.Equals(toName(candidate), value, StringComparison.Ordinal))
            {
                return candidate;
            }
        }

        if (value == "SM2")
        {
            // KmsNames reports why SM2 is not offered.
            _ = typeof(T) == typeof(DataKeyPairSpec) ? (object)KmsNames.ParseDataKeyPairSpec(value) : KmsNames.ParseKeySpec(value);
        }

        var shown = value.Length <= 64 ? value : value[..64] + "…";
        throw new KmsValidationException(
            $"1 validation error detected: Value '{shown}' at '{Camel(parameter)}' failed to satisfy constraint: Member must satisfy enum value set: [{string.Join(", ", Enum.GetValues<T>().Select(toName))}]");
    }

    public static List<string>? Names<T>(IReadOnlyList<T>? values, Func<T, string> toName)
        => values is null || values.Count == 0 ? null : values.Select(toName).ToList();

    public static DateTime? Utc(DateTimeOffset? value) => value?.UtcDateTime;

    public static DateTimeOffset? Offset(DateTime? value)
        => value is not { } v ? null
            : v.Kind == DateTimeKind.Unspecified ? new DateTimeOffset(DateTime.SpecifyKind(v, DateTimeKind.Utc))
            : new DateTimeOffset(v.ToUniversalTime());

    public static MemoryStream? Stream(byte[]? bytes) => bytes is null ? null : new MemoryStream(bytes, 0, bytes.Length, writable: true, publiclyVisible: true);

    /// <summary>The whole content of a request blob (as the SDK sends it), without a copy when the stream allows it.</summary>
    public static Blob Bytes(MemoryStream? stream)
    {
        if (stream is null)
        {
            return default;
        }

        if (stream.TryGetBuffer(out var segment))
        {
            return new Blob(segment.AsMemory(), null);
        }

        var copy = stream.ToArray();
        return new Blob(copy, copy);
    }

    /// <summary>A request blob; <see cref="Dispose"/> zeroes the copy made of it, if one was made.</summary>
    public readonly record struct Blob(ReadOnlyMemory<byte> Memory, byte[]? Copy) : IDisposable
    {
        public void Dispose()
        {
            if (Copy is not null)
            {
                CryptographicOperations.ZeroMemory(Copy);
            }
        }
    }

    public static IReadOnlyDictionary<string, string>? Context(Dictionary<string, string>? context)
        => context is null || context.Count == 0 ? null : context;

    public static IReadOnlyList<string>? Tokens(List<string>? tokens) => tokens is null || tokens.Count == 0 ? null : tokens;

    public static IReadOnlyList<KeyTag>? Tags(List<Aws.Tag>? tags)
        => tags?.Select(t => new KeyTag(t.TagKey ?? string.Empty, t.TagValue ?? string.Empty)).ToList();

    public static List<Aws.Tag> Tags(IReadOnlyList<KeyTag> tags) => tags.Select(t => new Aws.Tag { TagKey = t.TagKey, TagValue = t.TagValue }).ToList();

    public static RecipientInfo? Recipient(Aws.RecipientInfo? recipient)
    {
        if (recipient is null)
        {
            return null;
        }

        return new RecipientInfo
        {
            KeyEncryptionAlgorithm = Parse<KeyEncryptionMechanism>(recipient.KeyEncryptionAlgorithm, "Recipient.KeyEncryptionAlgorithm", static v => v.ToKmsName())
                ?? KeyEncryptionMechanism.RsaesOaepSha256,
            AttestationDocument = Required(recipient.AttestationDocument, "Recipient.AttestationDocument").ToArray(),
        };
    }

    public static EncryptionAlgorithm Encryption(ConstantClass? value, string parameter)
        => Parse<EncryptionAlgorithm>(value, parameter, static v => v.ToKmsName()) ?? EncryptionAlgorithm.SymmetricDefault;

    public static void RefuseDryRunModifiers(List<string>? modifiers)
    {
        if (modifiers is { Count: > 0 })
        {
            foreach (var modifier in modifiers)
            {
                if (modifier != "IGNORE_CIPHERTEXT")
                {
                    _ = Parse<DryRunModifier>(modifier, "DryRunModifiers", static _ => "IGNORE_CIPHERTEXT");
                }
            }

            throw new KmsUnsupportedOperationException(
                "DryRunModifiers IGNORE_CIPHERTEXT is not supported: a dry run here always checks the ciphertext, so give a valid one.");
        }
    }

    private enum DryRunModifier
    {
        IgnoreCiphertext = 1,
    }

    public static Aws.KeyMetadata Metadata(KeyMetadata m) => new()
    {
        AWSAccountId = m.AwsAccountId,
        Arn = m.Arn,
        KeyId = m.KeyId,
        CreationDate = m.CreationDate.UtcDateTime,
        Description = m.Description,
        Enabled = m.Enabled,
        KeyState = Sdk.KeyState.FindValue(m.KeyState.ToKmsName()),
        KeyUsage = Sdk.KeyUsageType.FindValue(m.KeyUsage.ToKmsName()),
        KeySpec = Sdk.KeySpec.FindValue(m.KeySpec.ToKmsName()),
#pragma warning disable CS0618 // CustomerMasterKeySpec is deprecated in favour of KeySpec, but KMS still returns it.
        CustomerMasterKeySpec = Sdk.CustomerMasterKeySpec.FindValue(m.KeySpec.ToKmsName()),
#pragma warning restore CS0618
        Origin = Sdk.OriginType.FindValue(m.Origin.ToKmsName()),
        KeyManager = Sdk.KeyManagerType.FindValue(m.KeyManager.ToKmsName()),
        EncryptionAlgorithms = Names(m.EncryptionAlgorithms, static v => v.ToKmsName()),
        MacAlgorithms = Names(m.MacAlgorithms, static v => v.ToKmsName()),
        SigningAlgorithms = Names(m.SigningAlgorithms, static v => v.ToKmsName()),
        KeyAgreementAlgorithms = Names(m.KeyAgreementAlgorithms, static v => v.ToKmsName()),
        EncapsulationAlgorithms = m.KeyUsage == KeyUsage.EncapsulateDecapsulate ? ["ML_KEM"] : null,
        DeletionDate = Utc(m.DeletionDate),
        PendingDeletionWindowInDays = m.PendingDeletionWindowInDays,
        CurrentKeyMaterialId = m.CurrentKeyMaterialId,
        MultiRegion = m.MultiRegion,
        MultiRegionConfiguration = m.MultiRegionConfiguration is { } mr
            ? new Aws.MultiRegionConfiguration
            {
                MultiRegionKeyType = Sdk.MultiRegionKeyType.FindValue(mr.MultiRegionKeyType == MultiRegionKeyType.Primary ? "PRIMARY" : "REPLICA"),
                PrimaryKey = new Aws.MultiRegionKey { Arn = mr.PrimaryKey.Arn, Region = mr.PrimaryKey.Region },
                ReplicaKeys = mr.ReplicaKeys.Select(r => new Aws.MultiRegionKey { Arn = r.Arn, Region = r.Region }).ToList(),
            }
            : null,
        ExpirationModel = m.ExpirationModel is { } em ? Sdk.ExpirationModelType.FindValue(em.ToKmsName()) : null,
        ValidTo = Utc(m.ValidTo),
        CustomKeyStoreId = m.CustomKeyStoreId,
        CloudHsmClusterId = m.CloudHsmClusterId,
        XksKeyConfiguration = m.XksKeyConfiguration is { } xks ? new Aws.XksKeyConfigurationType { Id = xks.Id } : null,
    };

    public static Aws.GrantListEntry Grant(GrantListEntry g) => new()
    {
        KeyId = g.KeyId,
        GrantId = g.GrantId,
        Name = g.Name,
        CreationDate = g.CreationDate.UtcDateTime,
        GranteePrincipal = g.GranteePrincipal,
        RetiringPrincipal = g.RetiringPrincipal,
        IssuingAccount = g.IssuingAccount,
        Operations = g.Operations.Select(static o => o.ToString()).ToList(),
        Constraints = g.Constraints is { } c
            ? new Aws.GrantConstraints
            {
                EncryptionContextEquals = c.EncryptionContextEquals?.ToDictionary(),
                EncryptionContextSubset = c.EncryptionContextSubset?.ToDictionary(),
            }
            : null,
    };

    public static Aws.CustomKeyStoresListEntry CustomKeyStore(CustomKeyStoreEntry e) => new()
    {
        CustomKeyStoreId = e.CustomKeyStoreId,
        CustomKeyStoreName = e.CustomKeyStoreName,
        CustomKeyStoreType = Sdk.CustomKeyStoreType.FindValue(e.CustomKeyStoreType.ToKmsName()),
        ConnectionState = Sdk.ConnectionStateType.FindValue(e.ConnectionState.ToKmsName()),
        ConnectionErrorCode = e.ConnectionErrorCode is { } code ? Sdk.ConnectionErrorCodeType.FindValue(code.ToKmsName()) : null,
        CreationDate = e.CreationDate.UtcDateTime,
        CloudHsmClusterId = e.CloudHsmClusterId,
        TrustAnchorCertificate = e.TrustAnchorCertificate,
        XksProxyConfiguration = e.XksProxyConfiguration is { } x
            ? new Aws.XksProxyConfigurationType
            {
                AccessKeyId = x.AccessKeyId,
                Connectivity = Sdk.XksProxyConnectivityType.FindValue(x.Connectivity.ToKmsName()),
                UriEndpoint = x.UriEndpoint,
                UriPath = x.UriPath,
                VpcEndpointServiceName = x.VpcEndpointServiceName,
            }
            : null,
    };

    public static Aws.RotationsListEntry Rotation(RotationsListEntry r) => new()
    {
        KeyId = r.KeyId,
        KeyMaterialId = r.KeyMaterialId,
        RotationDate = r.RotationDate.UtcDateTime,
        RotationType = r.RotationType is { } t ? Sdk.RotationType.FindValue(t.ToKmsName()) : null,
        KeyMaterialState = Sdk.KeyMaterialState.FindValue(r.KeyMaterialState.ToKmsName()),
        ImportState = r.ImportState is { } s ? Sdk.ImportState.FindValue(s.ToKmsName()) : null,
        ExpirationModel = r.ExpirationModel is { } e ? Sdk.ExpirationModelType.FindValue(e.ToKmsName()) : null,
        ValidTo = Utc(r.ValidTo),
        KeyMaterialDescription = r.KeyMaterialDescription,
    };

    public static XksProxyAuthenticationCredential? Credential(Aws.XksProxyAuthenticationCredentialType? c)
        => c is null ? null : new XksProxyAuthenticationCredential
        {
            AccessKeyId = Required(c.AccessKeyId, "XksProxyAuthenticationCredential.AccessKeyId"),
            RawSecretAccessKey = Required(c.RawSecretAccessKey, "XksProxyAuthenticationCredential.RawSecretAccessKey"),
        };
}
