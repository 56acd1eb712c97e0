using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text;
using Amazon.Runtime;

namespace EnvelopeKms.KmsEndpoint.Tests.Infrastructure;

/// <summary>
/// Fills AWS SDK model objects with a value in every member (by reflection over their public settable
/// properties) and renders them as comparable text, so that a request or response can be checked to
/// survive the trip through the SDK's marshallers, the endpoint's codec and the SDK's unmarshallers.
/// </summary>
internal static class ModelValues
{
    private static readonly DateTime Time = new(2026, 1, 2, 3, 4, 5, 678, DateTimeKind.Utc);

    public static object Fill(Type type, int depth = 0)
    {
        var instance = Activator.CreateInstance(type)!;
        foreach (var property in Members(type))
        {
            property.SetValue(instance, Value(property.PropertyType, property.Name, depth));
        }

        return instance;
    }

    private static object? Value(Type type, string name, int depth)
    {
        var target = Nullable.GetUnderlyingType(type) ?? type;
        if (target == typeof(string)) { return $"{name}-value \"quoted\" ü/+"; }
        if (target == typeof(int)) { return 7; }
        if (target == typeof(long)) { return 9_000_000_000L; }
        if (target == typeof(bool)) { return true; }
        if (target == typeof(double)) { return 1.5; }
        if (target == typeof(DateTime)) { return Time; }
        if (target == typeof(MemoryStream)) { return new MemoryStream(Encoding.UTF8.GetBytes($"{name}-bytes\0\u00ff")); }
        if (typeof(ConstantClass).IsAssignableFrom(target))
        {
            var values = target.GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.FieldType == target).ToArray();
            return values.Length > 0 ? values[^1].GetValue(null) : Activator.CreateInstance(target, "VALUE");
        }

        if (target.IsGenericType && target.GetGenericTypeDefinition() == typeof(List<>))
        {
            var list = (IList)Activator.CreateInstance(target)!;
            if (depth < 3)
            {
                list.Add(Value(target.GetGenericArguments()[0], name, depth + 1));
            }

            return list;
        }

        if (target.IsGenericType && target.GetGenericTypeDefinition() == typeof(Dictionary<,>))
        {
            var map = (IDictionary)Activator.CreateInstance(target)!;
            map["key \"1\""] = Value(target.GetGenericArguments()[1], name, depth + 1);
            return map;
        }

        return depth < 3 ? Fill(target, depth + 1) : null;
    }

    /// <summary>The object as text: every member with its value, in name order (blobs as base64, times as UTC ISO-8601).</summary>
    public static string Render(object? value)
    {
        var text = new StringBuilder();
        Render(value, text);
        return text.ToString();
    }

    private static void Render(object? value, StringBuilder text)
    {
        switch (value)
        {
            case null:
                text.Append("null");
                return;
            case string s:
                text.Append('"').Append(s).Append('"');
                return;
            case bool or int or long or double:
                text.Append(Convert.ToString(value, CultureInfo.InvariantCulture));
                return;
            case DateTime time:
                text.Append(time.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture));
                return;
            case MemoryStream stream:
                text.Append("b64:").Append(Convert.ToBase64String(stream.ToArray()));
                return;
            case ConstantClass constant:
                text.Append("enum:").Append(constant.Value);
                return;
            case IDictionary map:
                text.Append('{');
                foreach (var key in map.Keys.Cast<string>().Order(StringComparer.Ordinal))
                {
                    text.Append(key).Append('=');
                    Render(map[key], text);
                    text.Append(';');
                }

                text.Append('}');
                return;
            case IList list:
                text.Append('[');
                foreach (var item in list)
                {
                    Render(item, text);
                    text.Append(',');
                }

                text.Append(']');
                return;
        }

        text.Append(value.GetType().Name).Append('{');
        foreach (var property in Members(value.GetType()))
        {
            var member = property.GetValue(value);
            if (member is null || (member is ICollection { Count: 0 }))
            {
                continue; // The SDK leaves absent lists and maps null or empty: both mean "absent".
            }

            text.Append(property.Name).Append('=');
            Render(member, text);
            text.Append(';');
        }

        text.Append('}');
    }

    public static IEnumerable<PropertyInfo> Members(Type type)
        => type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanWrite && p.SetMethod!.IsPublic && p.DeclaringType!.Namespace!.StartsWith("Amazon.KeyManagementService", StringComparison.Ordinal))
            .OrderBy(p => p.Name, StringComparer.Ordinal);
}
