using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using EnvelopeKms.Protection;
using EnvelopeKms.Storage;

namespace EnvelopeKms.Tests.CrashHost;

/// <summary>
/// One of N processes that start on the same empty store at the same moment.
/// Usage: <c>multi &lt;store&gt; &lt;rootKeyBase64&gt; &lt;worker&gt; &lt;startFile&gt; &lt;keys&gt; &lt;rounds&gt;</c>.
/// </summary>
/// <remarks>
/// Phase 1 starts when <c>startFile</c> appears (the start barrier): the worker opens the store (so all
/// workers initialise it together: schema, metadata row, root-key check value), creates a candidate
/// shared key and races the others to point <c>alias/multi/shared</c> at it, then for each round:
/// creates one of its own keys (while it has fewer than <c>keys</c>), encrypts under it and under the
/// shared key, adds its tag <c>w&lt;worker&gt;-&lt;round&gt;</c> to the shared key through the key manager
/// (whose conflict retries must lose no tag), and increments the counter in the shared key's
/// description with a compare-and-set on the store (re-read and retry on a version conflict; the record
/// is sealed with the root key, as the key manager seals its writes).
/// Phase 2 starts when <c>startFile.phase2</c> appears: it holds every worker's ciphertexts, one
/// <c>keyId ciphertext plaintext</c> line each, and the worker decrypts them all with the same key manager.
/// Output lines: <c>ok create own|candidate &lt;keyId&gt;</c>, <c>ok alias won|lost</c>, <c>ok shared &lt;keyId&gt;</c>,
/// <c>ok encrypt &lt;keyId&gt; &lt;ciphertext&gt; &lt;plaintext&gt;</c>, <c>ok tag &lt;tagKey&gt;</c>,
/// <c>ok increment &lt;value written&gt;</c>, <c>ok counter &lt;successes&gt; &lt;conflicts&gt;</c>, <c>phase1-done</c>,
/// <c>ok decrypted &lt;count&gt;</c>, <c>fail ...</c>.
/// </remarks>
internal static class MultiProcessWorker
{
    public const string SharedAlias = "alias/multi/shared";

    private static readonly Dictionary<string, string> Context = new(StringComparer.Ordinal) { ["purpose"] = "multi-process" };

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length != 6)
        {
            await Console.Error.WriteLineAsync("usage: EnvelopeKms.Tests.CrashHost multi <store> <rootKeyBase64> <worker> <startFile> <keys> <rounds>");
            return 2;
        }

        var worker = int.Parse(args[2], CultureInfo.InvariantCulture);
        var startFile = args[3];
        var keys = int.Parse(args[4], CultureInfo.InvariantCulture);
        var rounds = int.Parse(args[5], CultureInfo.InvariantCulture);

        Report("waiting");
        await WaitForFileAsync(startFile);

        using var rootKey = StaticRootKeyProvider.FromBase64(args[1], "the command line");
        var store = CrashStores.Open(args[0], onWriteStep: null);
        using var kms = new KeyManager(store, rootKey, new EnvelopeKmsOptions { MaxConflictRetries = 100 });

        var candidate = (await kms.CreateKeyAsync(new CreateKeyRequest { Description = "0", Tags = [new KeyTag("role", "candidate")] })).KeyMetadata.KeyId;
        Report("ok", "create", "candidate", candidate);
        try
        {
            await kms.CreateAliasAsync(new CreateAliasRequest { AliasName = SharedAlias, TargetKeyId = candidate });
            Report("ok", "alias", "won");
        }
        catch (KmsAlreadyExistsException)
        {
            Report("ok", "alias", "lost");
        }

        var shared = (await kms.DescribeKeyAsync(SharedAlias)).KeyId;
        Report("ok", "shared", shared);

        // The counter is written to the store directly, so it is sealed as the key manager seals its writes.
        var metadata = await store.GetMetadataAsync(CancellationToken.None) ?? throw new InvalidOperationException("The store is not initialized.");
        using var sealKey = await rootKey.GetRootKeyAsync(metadata.RootKeyParameters ?? "", CancellationToken.None);

        var successes = 0;
        var conflicts = 0;
        for (var round = 0; round < rounds; round++)
        {
            if (round < keys)
            {
                var own = (await kms.CreateKeyAsync(new CreateKeyRequest { Description = $"worker {worker} key {round}", Tags = [new KeyTag("role", "own")] })).KeyMetadata.KeyId;
                Report("ok", "create", "own", own);
                await EncryptAsync(kms, own);
            }

            await EncryptAsync(kms, SharedAlias);

            var tagKey = $"w{worker}-{round}";
            await kms.TagResourceAsync(new TagResourceRequest { KeyId = shared, Tags = [new KeyTag(tagKey, $"{round}")] });
            Report("ok", "tag", tagKey);

            while (true)
            {
                var current = await store.GetKeyAsync(shared, CancellationToken.None) ?? throw new InvalidOperationException("The shared key vanished.");
                var next = (int.Parse(current.Description, CultureInfo.InvariantCulture) + 1).ToString(CultureInfo.InvariantCulture);
                try
                {
                    await store.UpdateKeyAsync(RecordSeal.Seal(sealKey, current with { Description = next }), CancellationToken.None);
                    successes++;
                    Report("ok", "increment", next);
                    break;
                }
                catch (KeyStoreConflictException)
                {
                    conflicts++;
                }
            }
        }

        Report("ok", "counter", successes.ToString(CultureInfo.InvariantCulture), conflicts.ToString(CultureInfo.InvariantCulture));
        Report("phase1-done");

        var exitCode = await DecryptEveryoneElsesAsync(kms, startFile, Context);
        (store as IDisposable)?.Dispose();
        return exitCode;
    }

    /// <summary>
    /// Phase 2 of a multi-process run: waits for the test's list of every process's ciphertexts
    /// (<c>owner ciphertext plaintext</c> per line, base64) and decrypts each in this process.
    /// </summary>
    internal static async Task<int> DecryptEveryoneElsesAsync(IKeyManager kms, string startFile, IReadOnlyDictionary<string, string> context)
    {
        await WaitForFileAsync(startFile + ".phase2");
        var decrypted = 0;
        foreach (var line in await File.ReadAllLinesAsync(startFile + ".phase2"))
        {
            if (line.Split(' ') is not [var owner, var ciphertext, var plaintext])
            {
                continue;
            }

            var result = await kms.DecryptAsync(Convert.FromBase64String(ciphertext), context);
            if (!result.AsSpan().SequenceEqual(Convert.FromBase64String(plaintext)))
            {
                Report("fail", "decrypt", owner);
                return 1;
            }

            decrypted++;
        }

        Report("ok", "decrypted", decrypted.ToString(CultureInfo.InvariantCulture));
        return 0;
    }

    private static async Task EncryptAsync(KeyManager kms, string keyId)
    {
        var plaintext = RandomNumberGenerator.GetBytes(24);
        var response = await kms.EncryptAsync(new EncryptRequest { KeyId = keyId, Plaintext = plaintext, EncryptionContext = Context });
        Report("ok", "encrypt", response.KeyId[(response.KeyId.LastIndexOf('/') + 1)..], Convert.ToBase64String(response.CiphertextBlob), Convert.ToBase64String(plaintext));
    }

    internal static async Task WaitForFileAsync(string path)
    {
        var clock = Stopwatch.StartNew();
        while (!File.Exists(path))
        {
            if (clock.Elapsed > TimeSpan.FromMinutes(2))
            {
                throw new TimeoutException($"{path} did not appear.");
            }

            await Task.Delay(1);
        }
    }

    internal static void Report(params string[] tokens)
    {
        Console.Out.WriteLine(string.Join(' ', tokens));
        Console.Out.Flush();
    }
}
