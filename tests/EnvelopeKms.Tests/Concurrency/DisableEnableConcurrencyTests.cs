using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using EnvelopeKms.Tests.Infrastructure;

namespace EnvelopeKms.Tests.Concurrency;

/// <summary>
/// Data-plane operations on one key manager while another task disables and re-enables the key
/// (RELIABILITY row 48): no operation ever returns a wrong plaintext, the only errors are
/// <see cref="KmsDisabledException"/>, an operation that starts after <c>DisableKey</c> returned
/// always fails, and once the key is enabled again everything that was encrypted decrypts.
/// </summary>
public sealed class DisableEnableConcurrencyTests
{
    private const int Workers = 8;
    private const int RoundsPerWorker = 250;

    private sealed record Sealed(byte[] Blob, byte[] Plaintext, Dictionary<string, string> Context);

    [Fact]
    public async Task Encrypt_and_decrypt_racing_disable_and_enable_never_return_a_wrong_plaintext_and_fail_only_as_disabled()
    {
        var ct = TestContext.Current.CancellationToken;
        using var kms = new TestKeyManager();
        var manager = kms.Manager;
        var keyId = (await manager.CreateKeyAsync("concurrency", ct)).KeyId;

        var produced = new ConcurrentQueue<Sealed>();
        var unexpected = new ConcurrentQueue<string>();
        long calls = 1; // CreateKey.
        long disabledErrors = 0, encrypted = 0, decrypted = 0;
        var workersDone = 0;

        // The toggler flips the key while the workers run, and stops with the key enabled.
        var toggler = Task.Run(async () =>
        {
            var toggles = 0;
            while (Volatile.Read(ref workersDone) < Workers || toggles == 0)
            {
                await manager.DisableKeyAsync(new DisableKeyRequest { KeyId = keyId }, ct);
                await Task.Delay(1, ct);
                await manager.EnableKeyAsync(new EnableKeyRequest { KeyId = keyId }, ct);
                Interlocked.Add(ref calls, 2);
                toggles++;
                await Task.Delay(1, ct);
            }

            return toggles;
        }, ct);

        async Task<T?> Attempt<T>(string what, Func<Task<T>> operation)
            where T : class
        {
            Interlocked.Increment(ref calls);
            try
            {
                return await operation();
            }
            catch (KmsDisabledException)
            {
                Interlocked.Increment(ref disabledErrors);
                return null;
            }
            catch (Exception e)
            {
                unexpected.Enqueue($"{what}: {e.GetType().Name}: {e.Message}");
                return null;
            }
        }

        void Check(Sealed expected, byte[]? plaintext, string what)
        {
            if (plaintext is null)
            {
                return;
            }

            Interlocked.Increment(ref decrypted);
            if (!plaintext.AsSpan().SequenceEqual(expected.Plaintext))
            {
                unexpected.Enqueue($"{what}: a decrypt returned another plaintext than the one encrypted.");
            }
        }

        var workers = Enumerable.Range(0, Workers).Select(worker => Task.Run(async () =>
        {
            var random = new Random(worker);
            for (var round = 0; round < RoundsPerWorker; round++)
            {
                // The in-memory store completes synchronously: yield so the toggler's continuations get a thread.
                await Task.Yield();
                var plaintext = Encoding.UTF8.GetBytes($"worker {worker} round {round} ").Concat(RandomNumberGenerator.GetBytes(random.Next(1, 64))).ToArray();
                var context = new Dictionary<string, string> { ["worker"] = $"{worker}", ["round"] = $"{round}" };
                var blob = await Attempt("Encrypt", () => manager.EncryptAsync(keyId, plaintext, context, ct));
                if (blob is not null)
                {
                    Interlocked.Increment(ref encrypted);
                    var mine = new Sealed(blob, plaintext, context);
                    produced.Enqueue(mine);
                    Check(mine, await Attempt("Decrypt own", () => manager.DecryptAsync(blob, context, ct)), "Decrypt own");
                }

                // Someone's ciphertext, possibly another worker's.
                var all = produced.ToArray();
                if (all.Length > 0)
                {
                    var other = all[random.Next(all.Length)];
                    Check(other, await Attempt("Decrypt other", () => manager.DecryptAsync(other.Blob, other.Context, ct)), "Decrypt other");
                }

                if (round % 5 == 0)
                {
                    var dataKey = await Attempt("GenerateDataKey", () => manager.GenerateDataKeyAsync(new GenerateDataKeyRequest { KeyId = keyId, KeySpec = DataKeySpec.Aes256, EncryptionContext = context }, ct));
                    if (dataKey is not null)
                    {
                        produced.Enqueue(new Sealed(dataKey.CiphertextBlob, [.. dataKey.Plaintext], context));
                    }
                }

                if (round % 7 == 0 && all.Length > 0)
                {
                    var source = all[random.Next(all.Length)];
                    var moved = new Dictionary<string, string> { ["re-encrypted by"] = $"{worker}" };
                    var reEncrypted = await Attempt("ReEncrypt", () => manager.ReEncryptAsync(new ReEncryptRequest { CiphertextBlob = source.Blob, SourceEncryptionContext = source.Context, DestinationKeyId = keyId, DestinationEncryptionContext = moved }, ct));
                    if (reEncrypted is not null)
                    {
                        produced.Enqueue(new Sealed(reEncrypted.CiphertextBlob, source.Plaintext, moved));
                    }
                }
            }

            Interlocked.Increment(ref workersDone);
        }, ct)).ToArray();

        await Task.WhenAll(workers);
        var toggles = await toggler;

        TestContext.Current.TestOutputHelper?.WriteLine($"{toggles} toggles, {encrypted} encrypts and {decrypted} decrypts succeeded, {disabledErrors} failed as disabled.");
        Assert.Empty(unexpected);
        Assert.True(toggles > 0);
        Assert.True(Interlocked.Read(ref encrypted) > 0, "No encrypt succeeded.");
        Assert.True(Interlocked.Read(ref decrypted) > 0, "No decrypt succeeded.");
        Assert.True(Interlocked.Read(ref disabledErrors) > 0, "The toggler never disabled the key while an operation ran.");

        // The toggler stopped with the key enabled: everything produced decrypts to what was encrypted.
        Assert.Equal(KeyState.Enabled, (await manager.DescribeKeyAsync(keyId, ct)).KeyState);
        foreach (var item in produced)
        {
            Assert.Equal(item.Plaintext, await manager.DecryptAsync(item.Blob, item.Context, ct));
        }

        // One audit event per call, whatever its outcome (the DescribeKey and the final decrypts included).
        Assert.Equal(Interlocked.Read(ref calls) + 1 + produced.Count, kms.Audit.Events.Count);
    }

    [Fact]
    public async Task Every_data_plane_operation_fails_as_disabled_right_after_DisableKey_returns()
    {
        var ct = TestContext.Current.CancellationToken;
        using var kms = new TestKeyManager();
        var manager = kms.Manager;
        var keyId = (await manager.CreateKeyAsync("sequential", ct)).KeyId;
        var blob = await manager.EncryptAsync(keyId, "before"u8.ToArray(), cancellationToken: ct);

        for (var round = 0; round < 20; round++)
        {
            await manager.DisableKeyAsync(new DisableKeyRequest { KeyId = keyId }, ct);
            await Assert.ThrowsAsync<KmsDisabledException>(() => manager.EncryptAsync(keyId, "x"u8.ToArray(), cancellationToken: ct));
            await Assert.ThrowsAsync<KmsDisabledException>(() => manager.DecryptAsync(blob, cancellationToken: ct));
            await Assert.ThrowsAsync<KmsDisabledException>(() => manager.ReEncryptAsync(new ReEncryptRequest { CiphertextBlob = blob, DestinationKeyId = keyId }, ct));
            await Assert.ThrowsAsync<KmsDisabledException>(() => manager.GenerateDataKeyAsync(new GenerateDataKeyRequest { KeyId = keyId, KeySpec = DataKeySpec.Aes256 }, ct));
            await Assert.ThrowsAsync<KmsDisabledException>(() => manager.GenerateDataKeyWithoutPlaintextAsync(new GenerateDataKeyRequest { KeyId = keyId, NumberOfBytes = 16 }, ct));

            await manager.EnableKeyAsync(new EnableKeyRequest { KeyId = keyId }, ct);
            Assert.Equal("before"u8.ToArray(), await manager.DecryptAsync(blob, cancellationToken: ct));
        }
    }

    [Fact]
    public async Task An_operation_that_starts_after_DisableKey_returned_and_ends_before_EnableKey_began_always_fails()
    {
        var ct = TestContext.Current.CancellationToken;
        using var kms = new TestKeyManager();
        var manager = kms.Manager;
        var keyId = (await manager.CreateKeyAsync("linearizable", ct)).KeyId;
        var blob = await manager.EncryptAsync(keyId, "linearizable"u8.ToArray(), cancellationToken: ct);

        // The toggler publishes "disabled, confirmed" only after DisableKey returned, and withdraws it
        // (then bumps the generation) before it calls EnableKey. An operation that saw the flag at its
        // start, and the same generation at its end, ran entirely inside a window in which the key was
        // disabled by a completed call: it must have failed.
        var disabledConfirmed = 0;
        long generation = 0;
        var togglerDone = 0;
        var violations = new ConcurrentQueue<string>();
        long checkedInsideWindows = 0;

        var toggler = Task.Run(async () =>
        {
            for (var window = 0; window < 40; window++)
            {
                await manager.DisableKeyAsync(new DisableKeyRequest { KeyId = keyId }, ct);
                Interlocked.Exchange(ref disabledConfirmed, 1);
                await Task.Delay(2, ct);
                Interlocked.Exchange(ref disabledConfirmed, 0);
                Interlocked.Increment(ref generation);
                await manager.EnableKeyAsync(new EnableKeyRequest { KeyId = keyId }, ct);
                await Task.Delay(1, ct);
            }

            Interlocked.Exchange(ref togglerDone, 1);
        }, ct);

        var workers = Enumerable.Range(0, 4).Select(worker => Task.Run(async () =>
        {
            var operation = 0;
            while (Volatile.Read(ref togglerDone) == 0)
            {
                await Task.Yield();
                var generationAtStart = Interlocked.Read(ref generation);
                var disabledAtStart = Interlocked.CompareExchange(ref disabledConfirmed, 0, 0) == 1;
                bool succeeded;
                try
                {
                    if (operation++ % 2 == 0)
                    {
                        await manager.EncryptAsync(keyId, "x"u8.ToArray(), cancellationToken: ct);
                    }
                    else
                    {
                        await manager.DecryptAsync(blob, cancellationToken: ct);
                    }

                    succeeded = true;
                }
                catch (KmsDisabledException)
                {
                    succeeded = false;
                }

                if (disabledAtStart && Interlocked.Read(ref generation) == generationAtStart)
                {
                    Interlocked.Increment(ref checkedInsideWindows);
                    if (succeeded)
                    {
                        violations.Enqueue($"Worker {worker}: an operation that started after DisableKey returned succeeded (generation {generationAtStart}).");
                    }
                }
            }
        }, ct)).ToArray();

        await toggler;
        await Task.WhenAll(workers);

        TestContext.Current.TestOutputHelper?.WriteLine($"{checkedInsideWindows} operations ran entirely inside a disabled window.");
        Assert.Empty(violations);
        Assert.True(Interlocked.Read(ref checkedInsideWindows) > 0, "No operation ran inside a disabled window, so nothing was checked.");
        Assert.Equal("linearizable"u8.ToArray(), await manager.DecryptAsync(blob, cancellationToken: ct));
    }
}
