using System.Text.Json;
using EnvelopeKms.Authorization.Policies;

namespace EnvelopeKms.Tests.Policies;

/// <summary>A policy request backed by a dictionary of condition values (key names compared case-insensitively, as IAM does).</summary>
internal sealed class TestPolicyRequest : PolicyRequest
{
    private readonly Dictionary<string, ConditionValues> _values = new(StringComparer.OrdinalIgnoreCase);

    public TestPolicyRequest(string action, string principalArn, string resource = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", bool service = false)
    {
        Action = action;
        Resource = resource;
        PrincipalArn = principalArn;
        IsServicePrincipal = service;
        string[] parts = principalArn.Split(':');
        PrincipalAccount = service || parts.Length < 6 ? "" : parts[4];
        IsAccountRoot = !service && parts.Length == 6 && parts[2] == "iam" && parts[5] == "root";
    }

    public override string Action { get; }
    public override string Resource { get; }
    public override string PrincipalArn { get; }
    public override string PrincipalAccount { get; }
    public override bool IsAccountRoot { get; }
    public override bool IsServicePrincipal { get; }

    public TestPolicyRequest With(string key, ConditionValues values)
    {
        _values[key] = values;
        return this;
    }

    public TestPolicyRequest With(string key, string value) => With(key, ConditionValues.Of(value));

    public override ConditionValues GetConditionValues(in ConditionKey key) =>
        _values.TryGetValue(key.Name, out ConditionValues v) ? v : ConditionValues.Absent;

    public override string ToString() => $"{Action} by {PrincipalArn} on {Resource} with {string.Join(", ", _values.Select(kv => $"{kv.Key}={kv.Value.Count}"))}";

    /// <summary>Reads a request from a case file: action, principal, resource, service, context (string, array, bool, number).</summary>
    public static TestPolicyRequest FromJson(JsonElement e)
    {
        var r = new TestPolicyRequest(
            e.GetProperty("action").GetString()!,
            e.GetProperty("principal").GetString()!,
            e.TryGetProperty("resource", out JsonElement res) ? res.GetString()! : "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            e.TryGetProperty("service", out JsonElement svc) && svc.GetBoolean());
        if (e.TryGetProperty("context", out JsonElement ctx))
        {
            foreach (JsonProperty p in ctx.EnumerateObject())
            {
                r.With(p.Name, p.Value.ValueKind switch
                {
                    JsonValueKind.String => ConditionValues.Of(p.Value.GetString()!),
                    JsonValueKind.Array => ConditionValues.Of(p.Value.EnumerateArray().Select(x => x.GetString()!).ToList()),
                    JsonValueKind.True => ConditionValues.Of(true),
                    JsonValueKind.False => ConditionValues.Of(false),
                    JsonValueKind.Number => ConditionValues.Of(p.Value.GetInt64()),
                    _ => throw new InvalidDataException(p.Name),
                });
            }
        }
        return r;
    }
}
