using System.Text.Json;
using EnvelopeKms.KeyManagement;
using EnvelopeKms.Tests.Infrastructure;

namespace EnvelopeKms.Tests.Ciphertext;

/// <summary>
/// Known-answer vectors through our AES-256-GCM layer (<see cref="SymmetricCiphertext.Seal"/> and
/// <see cref="SymmetricCiphertext.TryOpen"/>), RELIABILITY row 7. Every vector with a 256-bit key, a
/// 96-bit IV and a 128-bit tag must behave as its file says; every other vector must be rejected by
/// the layer, which accepts only the parameters of ciphertext format version 1. The number of vectors
/// run and rejected is asserted per file, so that a filter that silently drops vectors fails the test.
/// </summary>
public sealed class GcmVectorTests
{
    private const string WycheproofFile = "wycheproof/testvectors_v1/aes_gcm_test.json";
    private const string NistFile = "nist/gcmEncryptExtIV256.rsp";

    // Counted once from the files with jq/awk (see the class comment): aes_gcm_test.json has 316 vectors,
    // 66 of them in the one group with keySize 256, ivSize 96 and tagSize 128 (39 valid, 27 invalid,
    // all invalid ones ModifiedTag); the other 250 use 128/192-bit keys or other IV sizes.
    private const int WycheproofTotal = 316;
    private const int WycheproofRunValid = 39;
    private const int WycheproofRunInvalid = 27;
    private const int WycheproofRejected = 250;

    // gcmEncryptExtIV256.rsp has 525 sections × 15 = 7,875 vectors, all valid encryptions with 256-bit keys;
    // 25 sections (375 vectors) have IVlen 96 and Taglen 128. The other 7,500 have 8- or 1024-bit IVs or
    // tags truncated to 32–120 bits.
    private const int NistTotal = 7875;
    private const int NistRun = 375;
    private const int NistRejected = 7500;

    private sealed record Vector(string Name, byte[] Key, byte[] Iv, byte[] Aad, byte[] Message, byte[] Ciphertext, byte[] Tag, string Result)
    {
        public bool HasOurParameters => Key.Length == 32 && Iv.Length == 12 && Tag.Length == 16;
    }

    [Fact]
    public void Wycheproof_aes_gcm_vectors_behave_as_the_file_says_through_our_GCM_layer()
    {
        var path = RepositoryLocator.RequireTestVectorFile(WycheproofFile);
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        var root = document.RootElement;
        Assert.Equal("AES-GCM", root.GetProperty("algorithm").GetString());

        var vectors = new List<Vector>();
        foreach (var group in root.GetProperty("testGroups").EnumerateArray())
        {
            foreach (var test in group.GetProperty("tests").EnumerateArray())
            {
                byte[] Hex(string name) => Convert.FromHexString(test.GetProperty(name).GetString()!);
                var vector = new Vector(
                    $"aes_gcm_test.json#tcId={test.GetProperty("tcId").GetInt32()}",
                    Hex("key"), Hex("iv"), Hex("aad"), Hex("msg"), Hex("ct"), Hex("tag"),
                    test.GetProperty("result").GetString()!);

                // The group's declared sizes and the vector's actual sizes agree, so filtering on either is the same.
                Assert.Equal(group.GetProperty("keySize").GetInt32(), vector.Key.Length * 8);
                Assert.Equal(group.GetProperty("ivSize").GetInt32(), vector.Iv.Length * 8);
                Assert.Equal(group.GetProperty("tagSize").GetInt32(), vector.Tag.Length * 8);
                vectors.Add(vector);
            }
        }

        Assert.Equal(root.GetProperty("numberOfTests").GetInt32(), vectors.Count);
        Assert.Equal(WycheproofTotal, vectors.Count);

        var counts = Run(vectors, out var failures);

        Assert.Empty(failures);
        Assert.Equal((WycheproofRunValid, WycheproofRunInvalid, WycheproofRejected), counts);
    }

    [Fact]
    public void NIST_GCM_encryption_vectors_behave_as_the_file_says_through_our_GCM_layer()
    {
        var path = RepositoryLocator.RequireTestVectorFile(NistFile);
        var vectors = ParseNistResponseFile(path);
        Assert.Equal(NistTotal, vectors.Count);

        var counts = Run(vectors, out var failures);

        Assert.Empty(failures);
        Assert.Equal((NistRun, 0, NistRejected), counts);
    }

    [Fact]
    public void Our_GCM_layer_rejects_other_key_nonce_and_tag_sizes_and_mismatched_buffers()
    {
        var key = new byte[32];
        var nonce = new byte[12];
        var plaintext = new byte[5];
        var ciphertext = new byte[5];
        var tag = new byte[16];

        foreach (var size in new[] { 0, 16, 24, 31, 33, 64 })
        {
            Assert.Equal("key", Assert.Throws<ArgumentException>(() => SymmetricCiphertext.Seal(new byte[size], nonce, plaintext, [], ciphertext, tag)).ParamName);
            Assert.Equal("key", Assert.Throws<ArgumentException>(() => SymmetricCiphertext.TryOpen(new byte[size], nonce, ciphertext, tag, [], plaintext)).ParamName);
        }

        foreach (var size in new[] { 0, 1, 8, 11, 13, 16, 128 })
        {
            Assert.Equal("nonce", Assert.Throws<ArgumentException>(() => SymmetricCiphertext.Seal(key, new byte[size], plaintext, [], ciphertext, tag)).ParamName);
            Assert.Equal("nonce", Assert.Throws<ArgumentException>(() => SymmetricCiphertext.TryOpen(key, new byte[size], ciphertext, tag, [], plaintext)).ParamName);
        }

        foreach (var size in new[] { 0, 4, 8, 12, 13, 14, 15, 17 })
        {
            Assert.Equal("tag", Assert.Throws<ArgumentException>(() => SymmetricCiphertext.Seal(key, nonce, plaintext, [], ciphertext, new byte[size])).ParamName);
            Assert.Equal("tag", Assert.Throws<ArgumentException>(() => SymmetricCiphertext.TryOpen(key, nonce, ciphertext, new byte[size], [], plaintext)).ParamName);
        }

        Assert.Equal("ciphertext", Assert.Throws<ArgumentException>(() => SymmetricCiphertext.Seal(key, nonce, plaintext, [], new byte[4], tag)).ParamName);
        Assert.Equal("plaintext", Assert.Throws<ArgumentException>(() => SymmetricCiphertext.TryOpen(key, nonce, ciphertext, tag, [], new byte[6])).ParamName);
    }

    [Fact]
    public void TryOpen_zeroes_the_plaintext_buffer_when_authentication_fails()
    {
        var key = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
        var nonce = new byte[12];
        var message = "attack at dawn"u8.ToArray();
        var ciphertext = new byte[message.Length];
        var tag = new byte[16];
        SymmetricCiphertext.Seal(key, nonce, message, "aad"u8, ciphertext, tag);
        tag[0] ^= 1;

        var plaintext = Enumerable.Repeat((byte)0xEE, message.Length).ToArray();
        Assert.False(SymmetricCiphertext.TryOpen(key, nonce, ciphertext, tag, "aad"u8, plaintext));
        Assert.All(plaintext, b => Assert.Equal(0, b));
    }

    /// <summary>
    /// Runs every vector: those with our parameters are sealed and opened and must match the file;
    /// the others must be rejected with <see cref="ArgumentException"/> by both directions.
    /// Returns (valid run, invalid run, rejected).
    /// </summary>
    private static (int Valid, int Invalid, int Rejected) Run(IReadOnlyList<Vector> vectors, out List<string> failures)
    {
        failures = [];
        int valid = 0, invalid = 0, rejected = 0;
        foreach (var v in vectors)
        {
            var ciphertext = new byte[v.Message.Length];
            var tag = new byte[v.Tag.Length];
            var plaintext = new byte[v.Ciphertext.Length];
            if (!v.HasOurParameters)
            {
                rejected++;
                if (!Rejects(() => SymmetricCiphertext.Seal(v.Key, v.Iv, v.Message, v.Aad, ciphertext, tag))
                    || !Rejects(() => SymmetricCiphertext.TryOpen(v.Key, v.Iv, v.Ciphertext, v.Tag, v.Aad, plaintext)))
                {
                    failures.Add($"{v.Name}: key {v.Key.Length * 8}, IV {v.Iv.Length * 8}, tag {v.Tag.Length * 8} bits was not rejected.");
                }

                continue;
            }

            switch (v.Result)
            {
                case "valid":
                    valid++;
                    SymmetricCiphertext.Seal(v.Key, v.Iv, v.Message, v.Aad, ciphertext, tag);
                    if (!ciphertext.AsSpan().SequenceEqual(v.Ciphertext) || !tag.AsSpan().SequenceEqual(v.Tag))
                    {
                        failures.Add($"{v.Name}: Seal gave {Convert.ToHexStringLower(ciphertext)}|{Convert.ToHexStringLower(tag)}.");
                    }

                    if (!SymmetricCiphertext.TryOpen(v.Key, v.Iv, v.Ciphertext, v.Tag, v.Aad, plaintext) || !plaintext.AsSpan().SequenceEqual(v.Message))
                    {
                        failures.Add($"{v.Name}: TryOpen did not return the message.");
                    }

                    // And the same vector with its tag modified is refused.
                    var modified = (byte[])v.Tag.Clone();
                    modified[^1] ^= 0x80;
                    if (SymmetricCiphertext.TryOpen(v.Key, v.Iv, v.Ciphertext, modified, v.Aad, plaintext))
                    {
                        failures.Add($"{v.Name}: TryOpen accepted a modified tag.");
                    }

                    break;

                case "invalid":
                    invalid++;
                    Array.Fill(plaintext, (byte)0xEE);
                    if (SymmetricCiphertext.TryOpen(v.Key, v.Iv, v.Ciphertext, v.Tag, v.Aad, plaintext))
                    {
                        failures.Add($"{v.Name}: TryOpen accepted an invalid vector.");
                    }
                    else if (plaintext.Any(b => b != 0))
                    {
                        failures.Add($"{v.Name}: TryOpen left bytes in the plaintext buffer after failing.");
                    }

                    break;

                default:
                    failures.Add($"{v.Name}: unexpected result '{v.Result}' (the policy for 'acceptable' vectors would have to be decided).");
                    break;
            }
        }

        return (valid, invalid, rejected);
    }

    private static bool Rejects(Action action)
    {
        try
        {
            action();
            return false;
        }
        catch (ArgumentException)
        {
            return true;
        }
    }

    /// <summary>Reads a CAVP GCM response file: bracketed section headers, then blocks of Count/Key/IV/PT/AAD/CT/Tag.</summary>
    private static List<Vector> ParseNistResponseFile(string path)
    {
        var vectors = new List<Vector>();
        var section = new Dictionary<string, int>(StringComparer.Ordinal);
        Dictionary<string, string>? block = null;

        void Flush()
        {
            if (block is null)
            {
                return;
            }

            byte[] Hex(string name) => Convert.FromHexString(block[name]);
            var vector = new Vector(
                $"gcmEncryptExtIV256.rsp[Keylen={section["Keylen"]},IVlen={section["IVlen"]},PTlen={section["PTlen"]},AADlen={section["AADlen"]},Taglen={section["Taglen"]}]#Count={block["Count"]}",
                Hex("Key"), Hex("IV"), Hex("AAD"), Hex("PT"), Hex("CT"), Hex("Tag"), "valid");
            Assert.Equal(section["Keylen"], vector.Key.Length * 8);
            Assert.Equal(section["IVlen"], vector.Iv.Length * 8);
            Assert.Equal(section["Taglen"], vector.Tag.Length * 8);
            Assert.Equal(section["PTlen"], vector.Message.Length * 8);
            Assert.Equal(section["AADlen"], vector.Aad.Length * 8);
            vectors.Add(vector);
            block = null;
        }

        foreach (var raw in File.ReadLines(path))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            if (line.StartsWith('[') && line.EndsWith(']'))
            {
                Flush();
                var parts = line[1..^1].Split('=', 2, StringSplitOptions.TrimEntries);
                section[parts[0]] = int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
                continue;
            }

            var field = line.Split('=', 2, StringSplitOptions.TrimEntries);
            if (field[0] == "Count")
            {
                Flush();
                block = new Dictionary<string, string>(StringComparer.Ordinal);
            }

            Assert.NotNull(block);
            block[field[0]] = field[1];
        }

        Flush();
        return vectors;
    }
}
