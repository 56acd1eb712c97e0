using System.Collections;
using System.Collections.Concurrent;
using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Text.Json;
using Amazon.Runtime;

namespace EnvelopeKms.AspNetCore.KmsEndpoint;

/// <summary>
/// The AWS JSON 1.1 encoding of the AWS SDK's KMS model types, by reflection over their public
/// properties (cached per type): members by their wire names (the SDK's property names, PascalCase),
/// blobs (<see cref="MemoryStream"/>) as base64, timestamps as epoch seconds, enums
/// (<see cref="ConstantClass"/>) as their wire strings, lists, string maps and nested structures; null
/// members are omitted. The base properties of <see cref="AmazonWebServiceResponse"/> are not members.
/// </summary>
internal static class KmsJsonCodec
{
    private static readonly ConcurrentDictionary<Type, Shape> Shapes = new();
    private static readonly JsonDocumentOptions ReadOptions = new() { MaxDepth = 32 };

    /// <summary>A malformed body or a member of the wrong type; the message names the member, never its value.</summary>
    internal sealed class CodecException(string message) : Exception(message);

    /// <summary>Decodes a request body (empty means <c>{}</c>) into an instance of <paramref name="type"/>.</summary>
    /// <exception cref="CodecException">The body is not JSON, not an object, or a member has the wrong type.</exception>
    public static object Deserialize(Type type, ReadOnlyMemory<byte> body)
    {
        if (body.Span.Trim(" \t\r\n"u8).IsEmpty)
        {
            return Shape.Of(type).Create();
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, ReadOptions);
        }
        catch (JsonException)
        {
            throw new CodecException("The request body is not valid JSON.");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new CodecException("The request body must be a JSON object.");
            }

            return ReadValue(type, document.RootElement, "request")!;
        }
    }

    /// <summary>Writes <paramref name="value"/> (a model structure) as a JSON object.</summary>
    public static void Serialize(Utf8JsonWriter writer, object value)
    {
        ArgumentNullException.ThrowIfNull(value);
        WriteValue(writer, value.GetType(), value);
    }

    /// <summary>Zeroes the buffers of the blobs (<see cref="MemoryStream"/> members) of a model object and its nested structures, where the stream exposes them.</summary>
    public static void Scrub(object? value)
    {
        switch (value)
        {
            case null or string:
                return;
            case MemoryStream stream:
                if (stream.TryGetBuffer(out var buffer))
                {
                    CryptographicOperations.ZeroMemory(buffer.AsSpan());
                }

                return;
            case IDictionary dictionary:
                foreach (var item in dictionary.Values)
                {
                    Scrub(item);
                }

                return;
            case IList list:
                foreach (var item in list)
                {
                    Scrub(item);
                }

                return;
        }

        var type = value.GetType();
        if (type.IsPrimitive || type.IsEnum || value is DateTime or ConstantClass || !Shape.IsStructure(type))
        {
            return;
        }

        foreach (var member in Shape.Of(type).Members)
        {
            Scrub(member.Property.GetValue(value));
        }
    }

    private static object? ReadValue(Type type, JsonElement element, string member)
    {
        if (element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        var target = Nullable.GetUnderlyingType(type) ?? type;
        if (target == typeof(string))
        {
            return element.ValueKind == JsonValueKind.String ? element.GetString() : throw WrongType(member, "a string");
        }

        if (target == typeof(bool))
        {
            return element.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw WrongType(member, "a boolean"),
            };
        }

        if (target == typeof(int))
        {
            return element.ValueKind == JsonValueKind.Number && element.TryGetInt32(out var value) ? value : throw WrongType(member, "an integer");
        }

        if (target == typeof(long))
        {
            return element.ValueKind == JsonValueKind.Number && element.TryGetInt64(out var value) ? value : throw WrongType(member, "a long integer");
        }

        if (target == typeof(double))
        {
            return element.ValueKind == JsonValueKind.Number && element.TryGetDouble(out var value) ? value : throw WrongType(member, "a number");
        }

        if (target == typeof(float))
        {
            return element.ValueKind == JsonValueKind.Number && element.TryGetSingle(out var value) ? value : throw WrongType(member, "a number");
        }

        if (target == typeof(DateTime))
        {
            return element.ValueKind == JsonValueKind.Number && element.TryGetDouble(out var seconds) && double.IsFinite(seconds)
                && seconds is > -62135596800d and < 253402300800d
                ? DateTime.UnixEpoch.AddTicks((long)Math.Round(seconds * TimeSpan.TicksPerSecond))
                : throw WrongType(member, "a timestamp in epoch seconds");
        }

        if (target == typeof(MemoryStream))
        {
            if (element.ValueKind != JsonValueKind.String || !element.TryGetBytesFromBase64(out var bytes))
            {
                throw WrongType(member, "a base64-encoded blob");
            }

            var stream = new MemoryStream(bytes.Length);
            stream.Write(bytes);
            CryptographicOperations.ZeroMemory(bytes);
            stream.Position = 0;
            return stream;
        }

        if (typeof(ConstantClass).IsAssignableFrom(target))
        {
            return element.ValueKind == JsonValueKind.String ? Shape.Constant(target, element.GetString()!) : throw WrongType(member, "a string");
        }

        if (target.IsGenericType && target.GetGenericTypeDefinition() == typeof(List<>))
        {
            if (element.ValueKind != JsonValueKind.Array)
            {
                throw WrongType(member, "a list");
            }

            var itemType = target.GetGenericArguments()[0];
            var list = (IList)Activator.CreateInstance(target)!;
            foreach (var item in element.EnumerateArray())
            {
                list.Add(ReadValue(itemType, item, member));
            }

            return list;
        }

        if (target.IsGenericType && target.GetGenericTypeDefinition() == typeof(Dictionary<,>) && target.GetGenericArguments()[0] == typeof(string))
        {
            if (element.ValueKind != JsonValueKind.Object)
            {
                throw WrongType(member, "a map");
            }

            var valueType = target.GetGenericArguments()[1];
            var map = (IDictionary)Activator.CreateInstance(target)!;
            foreach (var property in element.EnumerateObject())
            {
                map[property.Name] = ReadValue(valueType, property.Value, member);
            }

            return map;
        }

        if (Shape.IsStructure(target))
        {
            if (element.ValueKind != JsonValueKind.Object)
            {
                throw WrongType(member, "a structure");
            }

            var shape = Shape.Of(target);
            var instance = shape.Create();
            foreach (var property in element.EnumerateObject())
            {
                // Members this version does not know are ignored, as AWS does for forward compatibility.
                if (shape.ByName.TryGetValue(property.Name, out var known))
                {
                    known.Property.SetValue(instance, ReadValue(known.Property.PropertyType, property.Value, property.Name));
                }
            }

            return instance;
        }

        throw new CodecException($"The member '{member}' has a type the endpoint cannot decode.");
    }

    private static CodecException WrongType(string member, string expected)
        => new($"The value of '{member}' must be {expected}.");

    private static void WriteValue(Utf8JsonWriter writer, Type declared, object value)
    {
        switch (value)
        {
            case string text:
                writer.WriteStringValue(text);
                return;
            case bool flag:
                writer.WriteBooleanValue(flag);
                return;
            case int number:
                writer.WriteNumberValue(number);
                return;
            case long number:
                writer.WriteNumberValue(number);
                return;
            case double number:
                writer.WriteNumberValue(number);
                return;
            case float number:
                writer.WriteNumberValue(number);
                return;
            case DateTime time:
                var utc = time.Kind == DateTimeKind.Local ? time.ToUniversalTime() : time;
                // Epoch seconds with milliseconds, as AWS (for example 1.700000000123E9).
                writer.WriteNumberValue(Math.Round((utc.Ticks - DateTime.UnixEpoch.Ticks) / (double)TimeSpan.TicksPerSecond, 3));
                return;
            case MemoryStream stream:
                if (stream.TryGetBuffer(out var buffer))
                {
                    writer.WriteBase64StringValue(buffer.AsSpan());
                }
                else
                {
                    // The stream hides its buffer: write from a copy, and zero the copy (it may be plaintext).
                    var copy = stream.ToArray();
                    writer.WriteBase64StringValue(copy);
                    CryptographicOperations.ZeroMemory(copy);
                }

                return;
            case ConstantClass constant:
                writer.WriteStringValue(constant.Value);
                return;
            case IDictionary dictionary:
                writer.WriteStartObject();
                foreach (DictionaryEntry entry in dictionary)
                {
                    if (entry.Value is not null)
                    {
                        writer.WritePropertyName((string)entry.Key);
                        WriteValue(writer, entry.Value.GetType(), entry.Value);
                    }
                }

                writer.WriteEndObject();
                return;
            case IList list:
                writer.WriteStartArray();
                foreach (var item in list)
                {
                    if (item is null)
                    {
                        writer.WriteNullValue();
                    }
                    else
                    {
                        WriteValue(writer, item.GetType(), item);
                    }
                }

                writer.WriteEndArray();
                return;
        }

        var type = value.GetType();
        if (!Shape.IsStructure(type))
        {
            throw new InvalidOperationException($"The endpoint cannot encode a value of type {declared}.");
        }

        writer.WriteStartObject();
        foreach (var member in Shape.Of(type).Members)
        {
            if (member.Property.GetValue(value) is { } memberValue)
            {
                writer.WritePropertyName(member.Name);
                WriteValue(writer, member.Property.PropertyType, memberValue);
            }
        }

        writer.WriteEndObject();
    }

    internal sealed record Member(string Name, PropertyInfo Property);

    /// <summary>A model structure: how to create it and its members.</summary>
    internal sealed class Shape
    {
        private static readonly ConcurrentDictionary<Type, Func<string, ConstantClass>> Constants = new();
        private readonly ConstructorInfo _constructor;

        private Shape(Type type)
        {
            _constructor = type.GetConstructor(Type.EmptyTypes)
                ?? throw new InvalidOperationException($"The model type {type} has no parameterless constructor.");
            Members = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                .Where(p => p.CanRead && p.CanWrite && p.GetIndexParameters().Length == 0 && p.SetMethod!.IsPublic
                    && p.DeclaringType is { } declaring && declaring != typeof(AmazonWebServiceRequest) && declaring != typeof(AmazonWebServiceResponse)
                    && !string.Equals(declaring.Namespace, "Amazon.Runtime", StringComparison.Ordinal))
                .OrderBy(p => p.Name, StringComparer.Ordinal)
                .Select(p => new Member(p.Name, p))
                .ToArray();
            ByName = Members.ToDictionary(m => m.Name, StringComparer.Ordinal);
        }

        public IReadOnlyList<Member> Members { get; }

        public IReadOnlyDictionary<string, Member> ByName { get; }

        public object Create() => _constructor.Invoke(null);

        public static Shape Of(Type type) => Shapes.GetOrAdd(type, static t => new Shape(t));

        /// <summary>A structure of the SDK's KMS model (request, response or nested structure).</summary>
        public static bool IsStructure(Type type)
            => type.IsClass && !type.IsAbstract && type != typeof(string) && !typeof(ConstantClass).IsAssignableFrom(type)
                && !typeof(IEnumerable).IsAssignableFrom(type) && !typeof(Stream).IsAssignableFrom(type)
                && type.Namespace is { } ns && ns.StartsWith("Amazon.KeyManagementService", StringComparison.Ordinal);

        /// <summary>The enum value for a wire string: the type's static <c>FindValue(string)</c>, which returns a known instance or a new one for a value this SDK version does not know.</summary>
        public static ConstantClass Constant(Type type, string value)
            => Constants.GetOrAdd(type, static t =>
            {
                var find = t.GetMethod("FindValue", BindingFlags.Public | BindingFlags.Static, [typeof(string)]);
                if (find is not null && t.IsAssignableFrom(find.ReturnType))
                {
                    return v => (ConstantClass)find.Invoke(null, [v])!;
                }

                var constructor = t.GetConstructor([typeof(string)])
                    ?? throw new InvalidOperationException($"The enum type {t} has neither FindValue(string) nor a string constructor.");
                return v => (ConstantClass)constructor.Invoke([v]);
            })(value);
    }
}
