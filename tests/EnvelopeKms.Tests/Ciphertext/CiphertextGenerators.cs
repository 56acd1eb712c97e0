using System.Text;
using FsCheck;
using FsCheck.Fluent;

namespace EnvelopeKms.Tests.Ciphertext;

/// <summary>A plaintext (given by length and seed, so that large ones are cheap to generate) and a context.</summary>
public sealed record PlaintextAndContext(int Length, int Seed, EncryptionContextCase Context)
{
    public byte[] Plaintext()
    {
        var bytes = new byte[Length];
        new Random(Seed).NextBytes(bytes);
        return bytes;
    }

    public override string ToString() => $"{Length} bytes (seed {Seed}), context {Context}";
}

/// <summary>An encryption context: <see langword="null"/> (absent) or its pairs, in insertion order.</summary>
public sealed record EncryptionContextCase(IReadOnlyList<KeyValuePair<string, string>>? Pairs)
{
    public Dictionary<string, string>? ToDictionary()
        => Pairs is null ? null : new Dictionary<string, string>(Pairs, StringComparer.Ordinal);

    public override string ToString() => Describe(Pairs);

    /// <summary>Shows every string with its code units escaped, so invisible characters can be read in a counterexample.</summary>
    public static string Describe(IEnumerable<KeyValuePair<string, string>>? pairs)
        => pairs is null ? "(absent)" : "{" + string.Join(", ", pairs.Select(p => $"{Escape(p.Key)}: {Escape(p.Value)}")) + "}";

    private static string Escape(string value)
    {
        var builder = new StringBuilder("\"");
        foreach (var c in value)
        {
            builder.Append(c is >= ' ' and <= '~' and not '"' and not '\\' ? c.ToString() : $"\\u{(int)c:x4}");
        }

        return builder.Append('"').ToString();
    }
}

/// <summary>A context and a changed copy of it that must not decrypt what the original encrypted.</summary>
public sealed record EncryptionContextChange(string Kind, EncryptionContextCase Original, EncryptionContextCase Changed)
{
    public override string ToString() => $"{Kind}: {Original} -> {Changed}";
}

/// <summary>A context given in one insertion order and the same pairs in another.</summary>
public sealed record EncryptionContextReordering(EncryptionContextCase Original, EncryptionContextCase Reordered)
{
    public override string ToString() => $"{Original} reordered as {Reordered}";
}

/// <summary>A ciphertext to make (plaintext and context) and a bit of it to flip, as a fraction of its length.</summary>
public sealed record BitFlipCase(PlaintextAndContext Message, int PositionSeed, int Bit)
{
    public override string ToString() => $"{Message}, position seed {PositionSeed}, bit {Bit}";
}

/// <summary>FsCheck generators for plaintexts and encryption contexts.</summary>
public static class CiphertextArbitraries
{
    private static Gen<int> Seed { get; } = Gen.Choose(0, int.MaxValue - 1);

    /// <summary>
    /// A Unicode scalar value as a string (one or two UTF-16 code units, never a lone surrogate):
    /// mostly printable ASCII, with control characters (NUL included), Latin, the rest of the BMP and
    /// supplementary planes.
    /// </summary>
    public static Gen<string> ScalarValue { get; } = Gen.Frequency(
            (8, Gen.Choose(0x20, 0x7E)),
            (1, Gen.Choose(0x00, 0x1F)),
            (2, Gen.Choose(0xA0, 0x24F)),
            (2, Gen.Choose(0x250, 0xD7FF)),
            (1, Gen.Choose(0xE000, 0xFFFF)),
            (2, Gen.Choose(0x10000, 0x10FFFF)))
        .Select(char.ConvertFromUtf32);

    /// <summary>A well-formed UTF-16 string of <paramref name="min"/>–<paramref name="max"/> scalar values.</summary>
    public static Gen<string> Text(int min, int max)
        => Gen.Choose(min, max).SelectMany(n => ScalarValue.ArrayOf(n)).Select(string.Concat);

    /// <summary>A context: absent, empty, or up to 8 pairs with non-empty keys and possibly empty values.</summary>
    public static Gen<EncryptionContextCase> ContextGen { get; } = Gen.Frequency(
        (1, Gen.Constant(new EncryptionContextCase(null))),
        (1, Gen.Constant(new EncryptionContextCase([]))),
        (8, NonEmptyContext(1, 8)));

    /// <summary>A context with <paramref name="min"/>–<paramref name="max"/> distinct keys.</summary>
    public static Gen<EncryptionContextCase> NonEmptyContext(int min, int max)
        => Gen.Choose(min, max)
            .SelectMany(n => Gen.Zip(Text(1, 12), Gen.Frequency((1, Gen.Constant("")), (6, Text(1, 12)))).ArrayOf(n))
            .Select(pairs => pairs.DistinctBy(p => p.Item1, StringComparer.Ordinal).Select(p => KeyValuePair.Create(p.Item1, p.Item2)).ToList())
            .Select(pairs => new EncryptionContextCase(pairs));

    /// <summary>A plaintext length of 1–4096 bytes, with the boundaries and small sizes often.</summary>
    public static Gen<int> PlaintextLength(int max)
        => Gen.Frequency(
            (1, Gen.Constant(1)),
            (1, Gen.Constant(max)),
            (4, Gen.Choose(1, 32)),
            (4, Gen.Choose(1, max)));

    public static Gen<PlaintextAndContext> MessageGen(int maxLength)
        => from length in PlaintextLength(maxLength)
           from seed in Seed
           from context in ContextGen
           select new PlaintextAndContext(length, seed, context);

    public static Arbitrary<PlaintextAndContext> PlaintextAndContext() => Arb.From(MessageGen(4096));

    public static Arbitrary<EncryptionContextCase> EncryptionContext() => Arb.From(ContextGen);

    public static Arbitrary<BitFlipCase> BitFlip()
        => Arb.From(
            from message in MessageGen(256)
            from position in Seed
            from bit in Gen.Choose(0, 7)
            select new BitFlipCase(message, position, bit));

    public static Arbitrary<EncryptionContextReordering> Reordering()
        => Arb.From(NonEmptyContext(2, 10)
            .Where(c => c.Pairs!.Count >= 2)
            .SelectMany(c => Gen.Shuffle(c.Pairs!.ToArray())
                .Where(shuffled => !shuffled.SequenceEqual(c.Pairs!))
                .Select(shuffled => new EncryptionContextReordering(c, new EncryptionContextCase(shuffled)))));

    /// <summary>Every kind of change to a context that must make decryption fail (RELIABILITY rows 8 and 9).</summary>
    public static Arbitrary<EncryptionContextChange> Change()
        => Arb.From(Gen.OneOf(AddPair(), RemovePair(), ChangeValue(), ChangeKeyCase(), ChangeValueCase()));

    private static Gen<EncryptionContextChange> AddPair()
        => from context in ContextGen
           from key in Text(1, 12).Where(k => context.Pairs is null || context.Pairs.All(p => p.Key != k))
           from value in Gen.Frequency((1, Gen.Constant("")), (4, Text(1, 12)))
           select new EncryptionContextChange(
               "add a pair",
               context,
               new EncryptionContextCase([.. context.Pairs ?? [], KeyValuePair.Create(key, value)]));

    private static Gen<EncryptionContextChange> RemovePair()
        => from context in NonEmptyContext(1, 8)
           from seed in Seed
           from absentWhenEmpty in Gen.Elements(true, false)
           let removed = context.Pairs!.Where((_, i) => i != seed % context.Pairs!.Count).ToList()
           // Removing the only pair leaves an empty or an absent context (row 8: context missing at decrypt).
           let changed = removed.Count == 0 && absentWhenEmpty ? new EncryptionContextCase(null) : new EncryptionContextCase(removed)
           select new EncryptionContextChange("remove a pair", context, changed);

    private static Gen<EncryptionContextChange> ChangeValue()
        => from context in NonEmptyContext(1, 8)
           from seed in Seed
           from newValue in Text(0, 12)
           let index = seed % context.Pairs!.Count
           let old = context.Pairs![index]
           let value = newValue == old.Value ? old.Value + "x" : newValue
           select new EncryptionContextChange("change a value", context, Replace(context, index, old.Key, value));

    private static Gen<EncryptionContextChange> ChangeKeyCase()
        => WithCasedPair().Select(t =>
        {
            var (context, index, position) = t;
            var pair = context.Pairs![index];
            return new EncryptionContextChange("change the case of a key", context, Replace(context, index, FlipCase(pair.Key, position), pair.Value));
        }).Where(change => change.Changed.Pairs!.DistinctBy(p => p.Key, StringComparer.Ordinal).Count() == change.Changed.Pairs!.Count);

    private static Gen<EncryptionContextChange> ChangeValueCase()
        => WithCasedPair().Select(t =>
        {
            var (context, index, position) = t;
            var pair = context.Pairs![index];
            return new EncryptionContextChange("change the case of a value", context, Replace(context, index, pair.Key, FlipCase(pair.Value, position)));
        });

    /// <summary>A context with a pair whose key and value both contain a cased ASCII letter, at a random place in the order.</summary>
    private static Gen<(EncryptionContextCase Context, int Index, int Position)> WithCasedPair()
    {
        var letters = Gen.Elements("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".Select(c => c.ToString()).ToArray());
        var casedText = from before in Text(0, 4)
                        from letter in letters
                        from after in Text(0, 4)
                        select before + letter + after;
        return from context in ContextGen
               from key in casedText.Where(k => context.Pairs is null || context.Pairs.All(p => p.Key != k))
               from value in casedText
               from seed in Seed
               let index = seed % ((context.Pairs?.Count ?? 0) + 1)
               select (Insert(context, index, key, value), index, seed);
    }

    /// <summary>Flips the case of one ASCII letter of <paramref name="text"/>, chosen by <paramref name="seed"/>.</summary>
    private static string FlipCase(string text, int seed)
    {
        var letters = Enumerable.Range(0, text.Length).Where(i => char.IsAsciiLetter(text[i])).ToList();
        var at = letters[seed % letters.Count];
        var chars = text.ToCharArray();
        chars[at] = char.IsAsciiLetterUpper(chars[at]) ? char.ToLowerInvariant(chars[at]) : char.ToUpperInvariant(chars[at]);
        return new string(chars);
    }

    private static EncryptionContextCase Insert(EncryptionContextCase context, int index, string key, string value)
    {
        var pairs = (context.Pairs ?? []).ToList();
        pairs.Insert(index, KeyValuePair.Create(key, value));
        return new EncryptionContextCase(pairs);
    }

    private static EncryptionContextCase Replace(EncryptionContextCase context, int index, string key, string value)
    {
        var pairs = context.Pairs!.ToList();
        pairs[index] = KeyValuePair.Create(key, value);
        return new EncryptionContextCase(pairs);
    }
}
