using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using EnvelopeKms.Protection;

namespace EnvelopeKms.Tests.CrashHost;

/// <summary>
/// One of N processes that rotate the same key on demand at the same moment (RELIABILITY rows 45 and 47).
/// Usage: <c>rotate-race &lt;store&gt; &lt;rootKeyBase64&gt; &lt;startFile&gt; &lt;keyId&gt; &lt;rounds&gt; &lt;maxConflictRetries&gt;</c>.
/// </summary>
/// <remarks>
/// The test creates the key before it starts the workers. Phase 1 starts when <c>startFile</c> appears
/// (the start barrier): for each round the worker rotates the key on demand and then encrypts under
/// it. A rotation or an encryption that keeps losing the race past <c>maxConflictRetries</c> fails with
/// <c>ConflictException</c>, which the worker reports and goes on (the bound is what row 45 asks for).
/// Phase 2 starts when <c>startFile.phase2</c> appears: it holds every worker's ciphertexts, one
/// <c>keyId ciphertext plaintext</c> line each, and the worker decrypts them all with the same key manager.
/// Output lines: <c>waiting</c>, <c>ok rotate &lt;materialId&gt;</c>, <c>fail rotate &lt;errorCode&gt;</c>,
/// <c>ok encrypt &lt;keyId&gt; &lt;ciphertext&gt; &lt;plaintext&gt; &lt;materialId&gt;</c>, <c>fail encrypt &lt;errorCode&gt;</c>,
/// <c>phase1-done</c>, <c>ok decrypted &lt;count&gt;</c>, <c>fail decrypt &lt;keyId&gt;</c>.
/// </remarks>
internal static class RotationRaceWorker
{
    private static readonly Dictionary<string, string> Context = new(StringComparer.Ordinal) { ["purpose"] = "rotation-race" };

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length != 6)
        {
            await Console.Error.WriteLineAsync("usage: EnvelopeKms.Tests.CrashHost rotate-race <store> <rootKeyBase64> <startFile> <keyId> <rounds> <maxConflictRetries>");
            return 2;
        }

        var startFile = args[2];
        var keyId = args[3];
        var rounds = int.Parse(args[4], CultureInfo.InvariantCulture);
        var retries = int.Parse(args[5], CultureInfo.InvariantCulture);

        using var rootKey = StaticRootKeyProvider.FromBase64(args[1], "the command line");
        var store = CrashStores.Open(args[0], onWriteStep: null);
        using var kms = new KeyManager(store, rootKey, new EnvelopeKmsOptions { MaxConflictRetries = retries });

        // Warm up (connection, root key, the key's first material) before the barrier, so that the rotations start together.
        await kms.DescribeKeyAsync(keyId);
        Report("waiting");
        await WaitForFileAsync(startFile);

        for (var round = 0; round < rounds; round++)
        {
            try
            {
                var rotated = await kms.RotateKeyOnDemandAsync(new RotateKeyOnDemandRequest { KeyId = keyId });
                Report("ok", "rotate", rotated.KeyMaterialId);
            }
            catch (KmsConflictException e)
            {
                Report("fail", "rotate", e.ErrorCode);
            }

            try
            {
                var plaintext = RandomNumberGenerator.GetBytes(24);
                var response = await kms.EncryptAsync(new EncryptRequest { KeyId = keyId, Plaintext = plaintext, EncryptionContext = Context });
                Report("ok", "encrypt", response.KeyId[(response.KeyId.LastIndexOf('/') + 1)..], Convert.ToBase64String(response.CiphertextBlob), Convert.ToBase64String(plaintext), response.KeyMaterialId);
            }
            catch (KmsConflictException e)
            {
                Report("fail", "encrypt", e.ErrorCode);
            }
        }

        Report("phase1-done");

        var exitCode = await MultiProcessWorker.DecryptEveryoneElsesAsync(kms, startFile, Context);
        (store as IDisposable)?.Dispose();
        return exitCode;
    }

    private static Task WaitForFileAsync(string path) => MultiProcessWorker.WaitForFileAsync(path);

    private static void Report(params string[] tokens) => MultiProcessWorker.Report(tokens);
}
