using System.Globalization;
using System.Text;
using System.Text.Json;

namespace EnvelopeKms.Authorization.Policies;

/// <summary>Validates and compiles a policy document; every failure is a <see cref="KmsMalformedPolicyDocumentException"/>.</summary>
internal static class PolicyParser
{
    public const int MaxDepth = 64;
    private const int ExcerptLength = 48;

    internal sealed class Result
    {
        public required string? Id { get; init; }
        public required string Version { get; init; }
        public required CompiledStatement[] Compiled { get; init; }
        public required PolicyStatement[] Statements { get; init; }
    }

    public static KmsMalformedPolicyDocumentException Error(string what, string where) =>
        new($"The policy document is malformed: {what} at {where}.");

    public static string Excerpt(string s) =>
        s.Length <= ExcerptLength ? s : string.Concat(s.AsSpan(0, ExcerptLength), "...");

    public static Result Parse(string text, PolicyDocumentKind kind)
    {
        if (text.Length == 0)
        {
            throw Error("the document is empty", "line 1, byte position 0");
        }
        if (text.Length > PolicyDocument.MaxLength)
        {
            throw Error($"the document has {text.Length} characters, more than the limit of {PolicyDocument.MaxLength}", $"character {PolicyDocument.MaxLength + 1}");
        }
        int bad = text.AsSpan().IndexOfAnyExceptInRange('\u0020', '\u00FF');
        while (bad >= 0 && text[bad] is '\t' or '\n' or '\r')
        {
            int next = text.AsSpan(bad + 1).IndexOfAnyExceptInRange('\u0020', '\u00FF');
            bad = next < 0 ? -1 : bad + 1 + next;
        }
        if (bad >= 0)
        {
            (int line, int column) = LineColumn(text, bad);
            throw Error($"the character U+{(int)text[bad]:X4} is not allowed (only tab, line feed, carriage return and U+0020 to U+00FF are)",
                $"line {line}, column {column}");
        }
        byte[] utf8 = Encoding.UTF8.GetBytes(text);
        Scan(utf8);
        JsonDocument json;
        try
        {
            json = JsonDocument.Parse(utf8, new JsonDocumentOptions { MaxDepth = MaxDepth + 1 });
        }
        catch (JsonException e)
        {
            throw Error("the document is not valid JSON", $"line {(e.LineNumber ?? 0) + 1}, byte position {e.BytePositionInLine ?? 0}");
        }
        using (json)
        {
            return Build(json.RootElement, kind);
        }
    }

    private static (int Line, int Column) LineColumn(string text, int index)
    {
        int line = 1, start = 0;
        for (int i = 0; i < index; i++)
        {
            if (text[i] == '\n')
            {
                line++;
                start = i + 1;
            }
        }
        return (line, index - start + 1);
    }

    private static string Position(byte[] utf8, long byteIndex)
    {
        int line = 1;
        long start = 0;
        for (int i = 0; i < byteIndex && i < utf8.Length; i++)
        {
            if (utf8[i] == (byte)'\n')
            {
                line++;
                start = i + 1;
            }
        }
        return $"line {line}, byte position {byteIndex - start}";
    }

    /// <summary>Syntax, depth, trailing garbage and duplicate property names, with positions.</summary>
    private static void Scan(byte[] utf8)
    {
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = MaxDepth + 2, CommentHandling = JsonCommentHandling.Disallow });
        var names = new Stack<HashSet<string>?>();
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                    case JsonTokenType.StartArray:
                        if (reader.CurrentDepth >= MaxDepth)
                        {
                            throw Error($"the JSON nesting is deeper than {MaxDepth} levels", Position(utf8, reader.TokenStartIndex));
                        }
                        names.Push(reader.TokenType == JsonTokenType.StartObject ? new HashSet<string>(StringComparer.Ordinal) : null);
                        break;
                    case JsonTokenType.EndObject:
                    case JsonTokenType.EndArray:
                        names.Pop();
                        break;
                    case JsonTokenType.PropertyName:
                        string name = reader.GetString()!;
                        if (!names.Peek()!.Add(name))
                        {
                            throw Error($"the property name \"{Excerpt(name)}\" appears twice in one object", Position(utf8, reader.TokenStartIndex));
                        }
                        break;
                    default:
                        break;
                }
            }
        }
        catch (JsonException e)
        {
            throw Error("the document is not valid JSON", $"line {(e.LineNumber ?? 0) + 1}, byte position {e.BytePositionInLine ?? 0}");
        }
        catch (InvalidOperationException)
        {
            throw Error("the document is not valid JSON", Position(utf8, reader.TokenStartIndex));
        }
    }

    private static Result Build(JsonElement root, PolicyDocumentKind kind)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw Error("the document is not a JSON object", "the root");
        }
        string? version = null, id = null;
        JsonElement? statement = null;
        foreach (JsonProperty p in root.EnumerateObject())
        {
            switch (p.Name)
            {
                case "Version":
                    version = RequireString(p.Value, "Version");
                    if (version is not ("2012-10-17" or "2008-10-17"))
                    {
                        throw Error($"the Version \"{Excerpt(version)}\" is not supported (use \"2012-10-17\")", "Version");
                    }
                    break;
                case "Id":
                    id = RequireString(p.Value, "Id");
                    break;
                case "Statement":
                    statement = p.Value;
                    break;
                default:
                    throw Error($"the element \"{Excerpt(p.Name)}\" is not a policy element (Version, Id, Statement)", Excerpt(p.Name));
            }
        }
        if (version is null)
        {
            throw Error("the Version element is missing (use \"2012-10-17\")", "the root");
        }
        if (statement is not { } st)
        {
            throw Error("the Statement element is missing", "the root");
        }
        bool variablesReserved = version == "2012-10-17";
        var items = new List<(JsonElement Element, string Path)>();
        if (st.ValueKind == JsonValueKind.Object)
        {
            items.Add((st, "Statement"));
        }
        else if (st.ValueKind == JsonValueKind.Array)
        {
            int i = 0;
            foreach (JsonElement e in st.EnumerateArray())
            {
                items.Add((e, $"Statement[{i++}]"));
            }
            if (items.Count == 0)
            {
                throw Error("the Statement array is empty", "Statement");
            }
        }
        else
        {
            throw Error("the Statement element must be an object or an array of objects", "Statement");
        }
        var compiled = new CompiledStatement[items.Count];
        var views = new PolicyStatement[items.Count];
        var sids = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < items.Count; i++)
        {
            (compiled[i], views[i]) = BuildStatement(items[i].Element, items[i].Path, i, kind, variablesReserved);
            if (compiled[i].Sid is { Length: > 0 } sid && !sids.Add(sid))
            {
                throw Error($"the Sid \"{Excerpt(sid)}\" is used by more than one statement", $"{items[i].Path}.Sid");
            }
        }
        return new Result { Id = id, Version = version, Compiled = compiled, Statements = views };
    }

    private static string RequireString(JsonElement e, string path) =>
        e.ValueKind == JsonValueKind.String ? e.GetString()! : throw Error("the value must be a string", path);

    private static List<string> StringOrArray(JsonElement e, string path)
    {
        var list = new List<string>();
        if (e.ValueKind == JsonValueKind.String)
        {
            list.Add(e.GetString()!);
        }
        else if (e.ValueKind == JsonValueKind.Array)
        {
            int i = 0;
            foreach (JsonElement x in e.EnumerateArray())
            {
                list.Add(RequireString(x, $"{path}[{i++}]"));
            }
            if (list.Count == 0)
            {
                throw Error("the array is empty", path);
            }
        }
        else
        {
            throw Error("the value must be a string or an array of strings", path);
        }
        return list;
    }

    private static (CompiledStatement, PolicyStatement) BuildStatement(JsonElement s, string path, int index, PolicyDocumentKind kind, bool variablesReserved)
    {
        if (s.ValueKind != JsonValueKind.Object)
        {
            throw Error("a statement must be a JSON object", path);
        }
        string? sid = null;
        PolicyEffect? effect = null;
        JsonElement? principal = null, notPrincipal = null, action = null, notAction = null, resource = null, notResource = null, condition = null;
        foreach (JsonProperty p in s.EnumerateObject())
        {
            string at = $"{path}.{p.Name}";
            switch (p.Name)
            {
                case "Sid":
                    sid = RequireString(p.Value, at);
                    break;
                case "Effect":
                    effect = RequireString(p.Value, at) switch
                    {
                        "Allow" => PolicyEffect.Allow,
                        "Deny" => PolicyEffect.Deny,
                        string other => throw Error($"the Effect \"{Excerpt(other)}\" is neither \"Allow\" nor \"Deny\"", at),
                    };
                    break;
                case "Principal": principal = p.Value; break;
                case "NotPrincipal": notPrincipal = p.Value; break;
                case "Action": action = p.Value; break;
                case "NotAction": notAction = p.Value; break;
                case "Resource": resource = p.Value; break;
                case "NotResource": notResource = p.Value; break;
                case "Condition": condition = p.Value; break;
                default:
                    throw Error($"the element \"{Excerpt(p.Name)}\" is not a statement element", path);
            }
        }
        if (effect is null)
        {
            throw Error("the statement has no Effect", path);
        }

        PrincipalSet? principals = null;
        List<string> principalView = [];
        bool isNotPrincipal = notPrincipal is not null;
        if (kind == PolicyDocumentKind.KeyPolicy)
        {
            if (principal is null == notPrincipal is null)
            {
                throw Error(principal is null ? "the statement has no Principal (a key policy statement needs exactly one of Principal and NotPrincipal)"
                    : "the statement has both Principal and NotPrincipal", path);
            }
            (principals, principalView) = BuildPrincipals((principal ?? notPrincipal)!.Value, $"{path}.{(isNotPrincipal ? "NotPrincipal" : "Principal")}");
        }
        else if (principal is not null || notPrincipal is not null)
        {
            throw Error("an identity policy statement cannot have a Principal or NotPrincipal", path);
        }

        if (action is null == notAction is null)
        {
            throw Error(action is null ? "the statement has no Action (it needs exactly one of Action and NotAction)" : "the statement has both Action and NotAction", path);
        }
        bool isNotAction = notAction is not null;
        string actionPath = $"{path}.{(isNotAction ? "NotAction" : "Action")}";
        List<string> actions = StringOrArray((action ?? notAction)!.Value, actionPath);
        for (int i = 0; i < actions.Count; i++)
        {
            ValidateAction(actions[i], actions.Count == 1 ? actionPath : $"{actionPath}[{i}]");
        }

        if (resource is null == notResource is null)
        {
            throw Error(resource is null ? "the statement has no Resource (it needs exactly one of Resource and NotResource)" : "the statement has both Resource and NotResource", path);
        }
        bool isNotResource = notResource is not null;
        string resourcePath = $"{path}.{(isNotResource ? "NotResource" : "Resource")}";
        List<string> resources = StringOrArray((resource ?? notResource)!.Value, resourcePath);
        for (int i = 0; i < resources.Count; i++)
        {
            string r = resources[i];
            string at = resources.Count == 1 ? resourcePath : $"{resourcePath}[{i}]";
            if (r != "*" && !r.StartsWith("arn:", StringComparison.Ordinal))
            {
                throw Error($"the resource \"{Excerpt(r)}\" is neither \"*\" nor an ARN", at);
            }
            if (variablesReserved && r.Contains("${", StringComparison.Ordinal))
            {
                throw Error("policy variables (${...}) are not supported", at);
            }
        }

        CompiledCondition[] conditions = condition is { } c ? BuildConditions(c, $"{path}.Condition", variablesReserved) : [];
        var compiled = new CompiledStatement
        {
            Index = index,
            Sid = sid,
            Effect = effect.Value,
            Principals = principals,
            NotPrincipal = isNotPrincipal,
            Actions = new PatternSet(actions, ignoreCase: true),
            NotAction = isNotAction,
            Resources = new PatternSet(resources, ignoreCase: false),
            NotResource = isNotResource,
            Conditions = conditions,
        };
        var view = new PolicyStatement(index, sid, effect.Value, isNotPrincipal, principalView.AsReadOnly(), isNotAction, actions.AsReadOnly(),
            isNotResource, resources.AsReadOnly(), condition?.GetRawText(), s.GetRawText());
        return (compiled, view);
    }

    private static void ValidateAction(string a, string at)
    {
        if (a == "*")
        {
            return;
        }
        int colon = a.IndexOf(':', StringComparison.Ordinal);
        ReadOnlySpan<char> service = colon < 0 ? default : a.AsSpan(0, colon);
        ReadOnlySpan<char> name = colon < 0 ? default : a.AsSpan(colon + 1);
        if (service.IsEmpty || name.IsEmpty || service.ContainsAnyExcept(ServiceChars) || name.ContainsAnyExcept(ActionChars))
        {
            throw Error($"the action \"{Excerpt(a)}\" is not \"*\" or \"service:action\" (wildcards * and ? only in the action name)", at);
        }
    }

    private static readonly System.Buffers.SearchValues<char> ServiceChars =
        System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-");

    private static readonly System.Buffers.SearchValues<char> ActionChars =
        System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_*?");

    private static (PrincipalSet, List<string>) BuildPrincipals(JsonElement e, string path)
    {
        if (e.ValueKind == JsonValueKind.String)
        {
            string s = e.GetString()!;
            return s == "*" ? (new PrincipalSet { Wildcard = true }, ["*"])
                : throw Error($"the principal \"{Excerpt(s)}\" must be \"*\" or an object such as {{\"AWS\": ...}}", path);
        }
        if (e.ValueKind != JsonValueKind.Object)
        {
            throw Error("the principal must be \"*\" or an object such as {\"AWS\": ...}", path);
        }
        bool wildcard = false;
        var accounts = new List<string>();
        var roots = new List<(string, string)>();
        var arns = new List<string>();
        var services = new List<string>();
        var view = new List<string>();
        int count = 0;
        foreach (JsonProperty p in e.EnumerateObject())
        {
            count++;
            string at = $"{path}.{p.Name}";
            List<string> values = StringOrArray(p.Value, at);
            for (int i = 0; i < values.Count; i++)
            {
                string v = values[i];
                string vat = values.Count == 1 ? at : $"{at}[{i}]";
                switch (p.Name)
                {
                    case "AWS":
                        view.Add("AWS:" + v);
                        if (v == "*")
                        {
                            wildcard = true;
                        }
                        else if (Wildcard.HasWildcard(v))
                        {
                            throw Error($"the principal \"{Excerpt(v)}\" contains a wildcard (only \"*\" alone is allowed)", vat);
                        }
                        else if (v.Length == 12 && v.AsSpan().IndexOfAnyExceptInRange('0', '9') < 0)
                        {
                            accounts.Add(v);
                        }
                        else if (TryRootArn(v, out string? partition, out string? account))
                        {
                            roots.Add((partition, account));
                        }
                        else if (IsPrincipalArn(v))
                        {
                            arns.Add(v);
                        }
                        else
                        {
                            throw Error($"the principal \"{Excerpt(v)}\" is not \"*\", a 12-digit account id or a principal ARN", vat);
                        }
                        break;
                    case "Service":
                        view.Add("Service:" + v);
                        if (v.Length == 0 || Wildcard.HasWildcard(v) || v.AsSpan().ContainsAny(' ', ':', '/'))
                        {
                            throw Error($"the service principal \"{Excerpt(v)}\" is not a service name such as \"dynamodb.amazonaws.com\" (no wildcards)", vat);
                        }
                        services.Add(v);
                        break;
                    case "Federated":
                    case "CanonicalUser":
                        throw Error($"{p.Name} principals are not supported by this key manager", at);
                    default:
                        throw Error($"the principal type \"{Excerpt(p.Name)}\" is not AWS or Service", path);
                }
            }
        }
        if (count == 0)
        {
            throw Error("the principal object is empty", path);
        }
        return (new PrincipalSet { Wildcard = wildcard, Accounts = [.. accounts], RootArns = [.. roots], Arns = [.. arns], Services = [.. services] }, view);
    }

    private static bool TryRootArn(string v, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? partition, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? account)
    {
        partition = account = null;
        Span<Range> parts = stackalloc Range[6];
        if (!ConditionParsing.TrySplitArn(v, parts))
        {
            return false;
        }
        ReadOnlySpan<char> s = v;
        if (!s[parts[0]].SequenceEqual("arn") || s[parts[1]].IsEmpty || !s[parts[2]].SequenceEqual("iam") || !s[parts[3]].IsEmpty
            || s[parts[4]].Length != 12 || s[parts[4]].IndexOfAnyExceptInRange('0', '9') >= 0 || !s[parts[5]].SequenceEqual("root"))
        {
            return false;
        }
        partition = s[parts[1]].ToString();
        account = s[parts[4]].ToString();
        return true;
    }

    private static bool IsPrincipalArn(string v)
    {
        Span<Range> parts = stackalloc Range[6];
        if (!ConditionParsing.TrySplitArn(v, parts))
        {
            return false;
        }
        ReadOnlySpan<char> s = v;
        ReadOnlySpan<char> service = s[parts[2]];
        return s[parts[0]].SequenceEqual("arn") && !s[parts[1]].IsEmpty && !service.IsEmpty && !s[parts[5]].IsEmpty
            && (!(service.SequenceEqual("iam") || service.SequenceEqual("sts"))
                || (s[parts[4]].Length == 12 && s[parts[4]].IndexOfAnyExceptInRange('0', '9') < 0));
    }

    private static CompiledCondition[] BuildConditions(JsonElement block, string path, bool variablesReserved)
    {
        if (block.ValueKind != JsonValueKind.Object)
        {
            throw Error("the Condition element must be an object of operators", path);
        }
        var list = new List<CompiledCondition>();
        foreach (JsonProperty op in block.EnumerateObject())
        {
            string opPath = $"{path}.{op.Name}";
            if (!ConditionOperator.TryParse(op.Name, out ConditionOperator parsed))
            {
                throw Error($"the condition operator \"{Excerpt(op.Name)}\" is not known", opPath);
            }
            if (op.Value.ValueKind != JsonValueKind.Object)
            {
                throw Error("a condition operator must map condition keys to values", opPath);
            }
            int keys = 0;
            foreach (JsonProperty k in op.Value.EnumerateObject())
            {
                keys++;
                string keyPath = $"{opPath}.{k.Name}";
                int colon = k.Name.IndexOf(':', StringComparison.Ordinal);
                if (colon <= 0 || colon == k.Name.Length - 1)
                {
                    throw Error($"the condition key \"{Excerpt(k.Name)}\" is not of the form prefix:name", keyPath);
                }
                List<string> values = ConditionValuesOf(k.Value, keyPath);
                list.Add(CompileCondition(op.Name, parsed, ConditionKey.Parse(k.Name), values, keyPath, variablesReserved));
            }
            if (keys == 0)
            {
                throw Error("the condition operator has no condition keys", opPath);
            }
        }
        return [.. list];
    }

    /// <summary>Condition values: a string, number or Boolean, or a non-empty array of them (numbers keep their JSON text).</summary>
    internal static List<string> ConditionValuesOf(JsonElement e, string path)
    {
        var list = new List<string>();
        if (e.ValueKind == JsonValueKind.Array)
        {
            int i = 0;
            foreach (JsonElement x in e.EnumerateArray())
            {
                list.Add(Scalar(x, $"{path}[{i++}]"));
            }
            if (list.Count == 0)
            {
                throw Error("the array of condition values is empty", path);
            }
        }
        else
        {
            list.Add(Scalar(e, path));
        }
        return list;
    }

    private static string Scalar(JsonElement e, string path) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString()!,
        JsonValueKind.Number => e.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => throw Error("a condition value must be a string, a number or a Boolean", path),
    };

    private static CompiledCondition CompileCondition(string opName, ConditionOperator op, ConditionKey key, List<string> values, string path, bool variablesReserved)
    {
        var numbers = new List<decimal>();
        var dates = new List<long>();
        var bools = new List<bool>();
        var ranges = new List<IpRange>();
        Span<Range> arnParts = stackalloc Range[6];
        for (int i = 0; i < values.Count; i++)
        {
            string v = values[i];
            string at = values.Count == 1 ? path : $"{path}[{i}]";
            if (variablesReserved && v.Contains("${", StringComparison.Ordinal))
            {
                throw Error("policy variables (${...}) are not supported", at);
            }
            switch (op.Family)
            {
                case OperatorFamily.Numeric:
                    numbers.Add(ConditionParsing.TryParseNumber(v, out decimal d) ? d : throw Error($"\"{Excerpt(v)}\" is not a number for {opName}", at));
                    break;
                case OperatorFamily.Date:
                    dates.Add(ConditionParsing.TryParseDate(v, out long t) ? t : throw Error($"\"{Excerpt(v)}\" is not a date (ISO 8601 or epoch seconds) for {opName}", at));
                    break;
                case OperatorFamily.Bool:
                case OperatorFamily.Null:
                    bools.Add(ConditionParsing.TryParseBool(v, out bool b) ? b : throw Error($"\"{Excerpt(v)}\" is not true or false for {opName}", at));
                    break;
                case OperatorFamily.IpAddress:
                    ranges.Add(IpRange.TryParse(v, out IpRange? r) ? r! : throw Error($"\"{Excerpt(v)}\" is not an IP address or CIDR block for {opName}", at));
                    break;
                case OperatorFamily.Binary:
                    if (!ConditionParsing.IsBase64(v))
                    {
                        throw Error($"\"{Excerpt(v)}\" is not base64 for {opName}", at);
                    }
                    break;
                case OperatorFamily.Arn:
                    if (v != "*" && !ConditionParsing.TrySplitArn(v, arnParts))
                    {
                        throw Error($"\"{Excerpt(v)}\" is not an ARN (six colon-separated parts) for {opName}", at);
                    }
                    break;
                default:
                    break;
            }
        }
        return new CompiledCondition
        {
            OperatorName = opName,
            Op = op,
            Key = key,
            Values = [.. values],
            Numbers = [.. numbers],
            Dates = [.. dates],
            Bools = [.. bools],
            Ranges = [.. ranges],
            Path = path,
        };
    }

    internal static string FormatNumber(decimal d) => d.ToString(CultureInfo.InvariantCulture);
}
