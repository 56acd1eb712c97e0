using System.Reflection;
using EnvelopeKms.Envelope;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace EnvelopeKms.EntityFrameworkCore;

/// <summary>Options of <see cref="EnvelopeKmsModelBuilderExtensions.UseEnvelopeKmsEncryption"/>.</summary>
public sealed class EnvelopeKmsColumnEncryptionOptions
{
    /// <summary>The default <c>kms:ViaService</c> of the KMS calls made for encrypted columns.</summary>
    public const string DefaultViaService = "efcore.envelopekms";

    /// <summary>The calling service the KMS calls carry (<c>kms:ViaService</c>); <see cref="DefaultViaService"/> by default.</summary>
    public string ViaService { get; set; } = DefaultViaService;
}

/// <summary>Stores chosen properties envelope-encrypted under an EnvelopeKms key.</summary>
public static class EnvelopeKmsModelBuilderExtensions
{
    /// <summary>The annotation that marks a property for encryption (its value: the key, or the empty string for the model's default).</summary>
    public const string EncryptedAnnotation = "EnvelopeKms:Encrypted";

    /// <summary>The encryption-context key naming the table.</summary>
    public const string TableContextKey = "table";

    /// <summary>The encryption-context key naming the column.</summary>
    public const string ColumnContextKey = "column";

    /// <summary>The encryption-context key naming the schema (only when the table has one).</summary>
    public const string SchemaContextKey = "schema";

    /// <summary>Marks the property to be stored envelope-encrypted (the fluent form of <see cref="EnvelopeEncryptedAttribute"/>).</summary>
    /// <param name="property">A <see cref="string"/> or <see cref="byte"/>[] property.</param>
    /// <param name="keyId">A key other than the model's default for this property, or <see langword="null"/>.</param>
    /// <returns>The property builder.</returns>
    public static PropertyBuilder IsEnvelopeEncrypted(this PropertyBuilder property, string? keyId = null)
    {
        ArgumentNullException.ThrowIfNull(property);
        return property.HasAnnotation(EncryptedAnnotation, keyId ?? "");
    }

    /// <summary>
    /// Gives every property marked with <see cref="EnvelopeEncryptedAttribute"/> or
    /// <see cref="IsEnvelopeEncrypted"/> a value converter that stores it envelope-encrypted under
    /// <paramref name="defaultKeyId"/> (or the property's own key), with the encryption context
    /// <c>{"table": ..., "column": ...}</c> (and <c>"schema"</c> when the table has one). Call it at the end of
    /// <c>OnModelCreating</c>, after table and column names are configured.
    /// </summary>
    /// <param name="modelBuilder">The model builder.</param>
    /// <param name="encryptor">The envelope encryptor; it must live as long as the application (EF caches the model, and the converters with it).</param>
    /// <param name="defaultKeyId">The key of properties that name none: a symmetric encryption key's id, ARN, alias name or alias ARN.</param>
    /// <param name="configure">Options; optional.</param>
    /// <returns>The model builder.</returns>
    /// <exception cref="InvalidOperationException">A marked property is neither <see cref="string"/> nor <see cref="byte"/>[], already has a value converter, or is part of a key.</exception>
    public static ModelBuilder UseEnvelopeKmsEncryption(this ModelBuilder modelBuilder, IEnvelopeEncryptor encryptor, string defaultKeyId, Action<EnvelopeKmsColumnEncryptionOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);
        ArgumentNullException.ThrowIfNull(encryptor);
        ArgumentException.ThrowIfNullOrWhiteSpace(defaultKeyId);
        var options = new EnvelopeKmsColumnEncryptionOptions();
        configure?.Invoke(options);
        ViaServiceScope.Begin(options.ViaService).Dispose(); // validates the name now, not at the first query

        foreach (var entityType in modelBuilder.Model.GetEntityTypes())
        {
            foreach (var property in entityType.GetProperties())
            {
                var keyId = KeyOf(property);
                if (keyId is null)
                {
                    continue;
                }

                if (property.IsKey() || property.IsForeignKey())
                {
                    throw new InvalidOperationException($"'{entityType.DisplayName()}.{property.Name}' is part of a key and cannot be envelope-encrypted: its ciphertext differs at every write, so it could never be looked up.");
                }

                if (property.GetValueConverter() is not null)
                {
                    throw new InvalidOperationException($"'{entityType.DisplayName()}.{property.Name}' already has a value converter; an envelope-encrypted property must be a plain string or byte[].");
                }

                var table = entityType.GetTableName()
                    ?? throw new InvalidOperationException($"'{entityType.DisplayName()}' is not mapped to a table, so '{property.Name}' has no table to bind its encryption context to.");
                var schema = entityType.GetSchema();
                var column = property.GetColumnName(StoreObjectIdentifier.Table(table, schema))
                    ?? throw new InvalidOperationException($"'{entityType.DisplayName()}.{property.Name}' has no column in table '{table}'.");
                var context = new Dictionary<string, string>(StringComparer.Ordinal) { [TableContextKey] = table, [ColumnContextKey] = column };
                if (schema is not null)
                {
                    context[SchemaContextKey] = schema;
                }

                var columnEncryptor = new EnvelopeColumnEncryptor(encryptor.CreateProtector(keyId.Length == 0 ? defaultKeyId : keyId, context), options.ViaService);
                var builder = modelBuilder.Entity(entityType.ClrType).Property(property.Name);
                if (property.ClrType == typeof(string))
                {
                    builder.HasConversion(new ValueConverter<string, byte[]>(v => columnEncryptor.EncryptString(v), v => columnEncryptor.DecryptString(v)));
                }
                else if (property.ClrType == typeof(byte[]))
                {
                    builder.HasConversion(new ValueConverter<byte[], byte[]>(v => columnEncryptor.Encrypt(v), v => columnEncryptor.Decrypt(v)), new Microsoft.EntityFrameworkCore.ChangeTracking.ValueComparer<byte[]>(
                        (a, b) => BytesEqual(a, b),
                        v => v.Length,
                        v => v.ToArray()));
                }
                else
                {
                    throw new InvalidOperationException($"'{entityType.DisplayName()}.{property.Name}' is a {property.ClrType.Name}; only string and byte[] properties can be envelope-encrypted.");
                }

                builder.HasAnnotation(EncryptedAnnotation, keyId);
            }
        }

        return modelBuilder;
    }

    private static bool BytesEqual(byte[]? a, byte[]? b) => a is null ? b is null : b is not null && a.AsSpan().SequenceEqual(b);

    private static string? KeyOf(IMutableProperty property)
    {
        if (property.FindAnnotation(EncryptedAnnotation)?.Value is string annotated)
        {
            return annotated;
        }

        return property.PropertyInfo?.GetCustomAttribute<EnvelopeEncryptedAttribute>(inherit: true) is { } attribute ? attribute.KeyId ?? "" : null;
    }
}

/// <summary>The encryption of one column: a protector bound to its key and context, calls marked with the calling service.</summary>
internal sealed class EnvelopeColumnEncryptor(EnvelopeProtector protector, string viaService)
{
    public byte[] Encrypt(byte[] plaintext)
    {
        using var scope = ViaServiceScope.Begin(viaService);
        return protector.Encrypt(plaintext);
    }

    public byte[] Decrypt(byte[] envelope)
    {
        using var scope = ViaServiceScope.Begin(viaService);
        return protector.Decrypt(envelope);
    }

    public byte[] EncryptString(string plaintext)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(plaintext);
        try
        {
            return Encrypt(bytes);
        }
        finally
        {
            Array.Clear(bytes);
        }
    }

    public string DecryptString(byte[] envelope)
    {
        var bytes = Decrypt(envelope);
        try
        {
            return System.Text.Encoding.UTF8.GetString(bytes);
        }
        finally
        {
            Array.Clear(bytes);
        }
    }
}
