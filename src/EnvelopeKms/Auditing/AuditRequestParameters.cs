using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace EnvelopeKms.Auditing;

/// <summary>
/// The <c>requestParameters</c> of an audit record, taken from a request object the way CloudTrail
/// takes them from a KMS API call: the parameters the caller gave, named in camelCase, with
/// enumerations by their AWS KMS names, except those that may be secret or are bulk data.
/// </summary>
/// <remarks>
/// <para>Parameters are kept by an allow-list of types, so that a new request type cannot leak a secret
/// through a property nobody reviewed: strings, numbers, flags that are set, enumerations, times, tags,
/// lists of strings or of grant operations, string maps and grant constraints. Everything else is left
/// out, in particular:</para>
/// <list type="bullet">
/// <item>binary parameters (<see cref="ReadOnlyMemory{T}"/>): plaintext, messages, ciphertext blobs, MACs,
/// signatures, public keys;</item>
/// <item>grant tokens (any parameter whose name contains <c>GrantToken</c>): they are bearer credentials;</item>
/// <item><c>EncryptionContext</c>, which the record carries in its own field, and the caller, which is its
/// <c>userIdentity</c>;</item>
/// <item>the <c>Recipient</c> parameter, recorded as the attested module and image digest instead.</item>
/// </list>
/// </remarks>
internal static class AuditRequestParameters
{
    private static readonly HashSet<Type> AllowedTypes =
    [
        typeof(string), typeof(bool), typeof(int), typeof(int?), typeof(long), typeof(long?), typeof(DateTimeOffset), typeof(DateTimeOffset?),
        typeof(IReadOnlyList<string>), typeof(IReadOnlyList<KeyTag>), typeof(IReadOnlyList<GrantOperation>),
        typeof(IReadOnlyDictionary<string, string>), typeof(GrantConstraints),
    ];

    private static readonly JsonSerializerOptions Options = CreateOptions();

    /// <summary>The recorded parameters of <paramref name="request"/>, a JSON object; <see langword="null"/> when none are recorded.</summary>
    public static JsonElement? Of(KmsRequest? request)
    {
        if (request is null || !Options.TryGetTypeInfo(request.GetType(), out var typeInfo))
        {
            return null;
        }

        JsonElement element;
        try
        {
            element = JsonSerializer.SerializeToElement(request, typeInfo);
        }
        catch (Exception e) when (e is NotSupportedException or InvalidOperationException or ArgumentException)
        {
            // A request the recorder cannot represent must not turn the operation's own error into another one.
            return null;
        }

        return element.ValueKind == JsonValueKind.Object && element.EnumerateObject().Any() ? element : null;
    }

    /// <summary>Whether a property of type <paramref name="type"/> named <paramref name="name"/> is recorded.</summary>
    internal static bool IsRecorded(Type type, string name)
        => name is not (nameof(KmsRequest.Caller) or "EncryptionContext")
            && !name.Contains("GrantToken", StringComparison.Ordinal)
            && !name.Contains("Password", StringComparison.Ordinal) && !name.Contains("Credential", StringComparison.Ordinal) // custom key store secrets
            && (AllowedTypes.Contains(type) || (Nullable.GetUnderlyingType(type) ?? type).IsEnum);

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions
        {
            TypeInfoResolver = AuditParametersJsonContext.Default.WithAddedModifier(static typeInfo =>
            {
                if (typeInfo.Kind != JsonTypeInfoKind.Object)
                {
                    return;
                }

                for (var i = typeInfo.Properties.Count - 1; i >= 0; i--)
                {
                    var property = typeInfo.Properties[i];
                    var name = property.AttributeProvider is System.Reflection.MemberInfo member ? member.Name : property.Name;
                    if (!IsRecorded(property.PropertyType, name))
                    {
                        typeInfo.Properties.RemoveAt(i);
                    }
                    else if (property.PropertyType == typeof(bool))
                    {
                        property.ShouldSerialize = static (_, value) => value is true;
                    }

                    if (name == nameof(KeyRequest.KeyId))
                    {
                        property.Order = -1; // First, as in CloudTrail's records (it is declared on the base class, which comes last).
                    }
                }
            }),
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        };
        options.Converters.Add(new KmsNameConverter<KeySpec>(static v => v.ToKmsName()));
        options.Converters.Add(new KmsNameConverter<KeyUsage>(static v => v.ToKmsName()));
        options.Converters.Add(new KmsNameConverter<KeyOrigin>(static v => v.ToKmsName()));
        options.Converters.Add(new KmsNameConverter<EncryptionAlgorithm>(static v => v.ToKmsName()));
        options.Converters.Add(new KmsNameConverter<SigningAlgorithm>(static v => v.ToKmsName()));
        options.Converters.Add(new KmsNameConverter<MessageType>(static v => v.ToKmsName()));
        options.Converters.Add(new KmsNameConverter<MacAlgorithm>(static v => v.ToKmsName()));
        options.Converters.Add(new KmsNameConverter<KeyAgreementAlgorithm>(static v => v.ToKmsName()));
        options.Converters.Add(new KmsNameConverter<DataKeySpec>(static v => v.ToKmsName()));
        options.Converters.Add(new KmsNameConverter<DataKeyPairSpec>(static v => v.ToKmsName()));
        options.Converters.Add(new KmsNameConverter<KeyEncryptionMechanism>(static v => v.ToKmsName()));
        options.Converters.Add(new KmsNameConverter<IncludeKeyMaterial>(static v => v == IncludeKeyMaterial.AllKeyMaterial ? "ALL_KEY_MATERIAL" : "ROTATIONS_ONLY"));
        options.Converters.Add(new KmsNameConverter<WrappingKeySpec>(static v => v.ToKmsName()));
        options.Converters.Add(new KmsNameConverter<ImportWrappingAlgorithm>(static v => v.ToKmsName()));
        options.Converters.Add(new KmsNameConverter<ExpirationModel>(static v => v.ToKmsName()));
        options.Converters.Add(new KmsNameConverter<ImportType>(static v => v.ToKmsName()));
        options.Converters.Add(new KmsNameConverter<EnvelopeKms.CustomKeyStores.CustomKeyStoreType>(static v => EnvelopeKms.CustomKeyStores.CustomKeyStoreNames.ToKmsName(v)));
        options.Converters.Add(new KmsNameConverter<XksProxyConnectivityType>(static v => v.ToKmsName()));
        options.Converters.Add(new JsonStringEnumConverter<GrantOperation>());
        options.Converters.Add(new JsonStringEnumConverter<KmsOperation>());
        options.MakeReadOnly();
        return options;
    }

    /// <summary>Writes an enumeration by its AWS KMS name; never reads (the records are only written).</summary>
    private sealed class KmsNameConverter<T>(Func<T, string> name) : JsonConverter<T>
        where T : struct, Enum
    {
        public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
            => throw new NotSupportedException("Audit request parameters are written, not read.");

        public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options)
            => writer.WriteStringValue(Enum.IsDefined(value) ? name(value) : value.ToString()); // an undefined value is bad input, recorded as given
    }
}

/// <summary>Metadata of every request type, for <see cref="AuditRequestParameters"/>; a test checks that none is missing.</summary>
[JsonSerializable(typeof(CreateKeyRequest))]
[JsonSerializable(typeof(DescribeKeyRequest))]
[JsonSerializable(typeof(EnableKeyRequest))]
[JsonSerializable(typeof(DisableKeyRequest))]
[JsonSerializable(typeof(CancelKeyDeletionRequest))]
[JsonSerializable(typeof(UpdateKeyDescriptionRequest))]
[JsonSerializable(typeof(ScheduleKeyDeletionRequest))]
[JsonSerializable(typeof(ListKeysRequest))]
[JsonSerializable(typeof(CreateAliasRequest))]
[JsonSerializable(typeof(UpdateAliasRequest))]
[JsonSerializable(typeof(DeleteAliasRequest))]
[JsonSerializable(typeof(ListAliasesRequest))]
[JsonSerializable(typeof(TagResourceRequest))]
[JsonSerializable(typeof(UntagResourceRequest))]
[JsonSerializable(typeof(ListResourceTagsRequest))]
[JsonSerializable(typeof(EncryptRequest))]
[JsonSerializable(typeof(DecryptRequest))]
[JsonSerializable(typeof(ReEncryptRequest))]
[JsonSerializable(typeof(GenerateDataKeyRequest))]
[JsonSerializable(typeof(GenerateRandomRequest))]
[JsonSerializable(typeof(GenerateMacRequest))]
[JsonSerializable(typeof(VerifyMacRequest))]
[JsonSerializable(typeof(SignRequest))]
[JsonSerializable(typeof(VerifyRequest))]
[JsonSerializable(typeof(GetPublicKeyRequest))]
[JsonSerializable(typeof(DecapsulateRequest))]
[JsonSerializable(typeof(EncapsulateRequest))]
[JsonSerializable(typeof(DeriveSharedSecretRequest))]
[JsonSerializable(typeof(EnableKeyRotationRequest))]
[JsonSerializable(typeof(DisableKeyRotationRequest))]
[JsonSerializable(typeof(GetKeyRotationStatusRequest))]
[JsonSerializable(typeof(RotateKeyOnDemandRequest))]
[JsonSerializable(typeof(GetParametersForImportRequest))]
[JsonSerializable(typeof(ImportKeyMaterialRequest))]
[JsonSerializable(typeof(DeleteImportedKeyMaterialRequest))]
[JsonSerializable(typeof(CreateCustomKeyStoreRequest))]
[JsonSerializable(typeof(ConnectCustomKeyStoreRequest))]
[JsonSerializable(typeof(DisconnectCustomKeyStoreRequest))]
[JsonSerializable(typeof(DescribeCustomKeyStoresRequest))]
[JsonSerializable(typeof(UpdateCustomKeyStoreRequest))]
[JsonSerializable(typeof(DeleteCustomKeyStoreRequest))]
[JsonSerializable(typeof(ListKeyRotationsRequest))]
[JsonSerializable(typeof(GenerateDataKeyPairRequest))]
[JsonSerializable(typeof(PutKeyPolicyRequest))]
[JsonSerializable(typeof(GetKeyPolicyRequest))]
[JsonSerializable(typeof(ListKeyPoliciesRequest))]
[JsonSerializable(typeof(CreateGrantRequest))]
[JsonSerializable(typeof(ListGrantsRequest))]
[JsonSerializable(typeof(ListRetirableGrantsRequest))]
[JsonSerializable(typeof(RetireGrantRequest))]
[JsonSerializable(typeof(RevokeGrantRequest))]
[JsonSerializable(typeof(SimulateAuthorizationRequest))]
[JsonSerializable(typeof(GetKeyLastUsageRequest))]
[JsonSerializable(typeof(GetUsageReportRequest))]
[JsonSerializable(typeof(ReplicateKeyRequest))]
[JsonSerializable(typeof(UpdatePrimaryRegionRequest))]
internal sealed partial class AuditParametersJsonContext : JsonSerializerContext;
