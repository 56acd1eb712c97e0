using EnvelopeKms.Protection;
using EnvelopeKms.Storage;
using EnvelopeKms.Tests.Infrastructure;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace EnvelopeKms.Tests.Concurrency;

/// <summary>One step of a generated rotation history.</summary>
public enum RotationStep
{
    Encrypt,
    RotateOnDemand,
    AdvanceTime,
    Restart,
    ReEncrypt,
    EnableAutomatic,
    DisableAutomatic,
}

/// <summary>
/// Model-based check of key rotation: any sequence of encryptions, on-demand rotations, clock advances,
/// key-manager restarts over the same store, re-encryptions and switches of automatic rotation leaves a
/// rotation history equal to the model's (which material, made how and when, which is current), and
/// every ciphertext ever produced still decrypts.
/// </summary>
public sealed class RotationModelProperties
{
    /// <summary>A small cap, so that usage-based rotations happen within a generated history.</summary>
    private const long Cap = 6;

    public static Arbitrary<RotationStep[]> Steps()
        => Arb.From(Gen.Frequency(
                (6, Gen.Constant(RotationStep.Encrypt)),
                (2, Gen.Constant(RotationStep.RotateOnDemand)),
                (3, Gen.Constant(RotationStep.AdvanceTime)),
                (1, Gen.Constant(RotationStep.Restart)),
                (2, Gen.Constant(RotationStep.ReEncrypt)),
                (1, Gen.Constant(RotationStep.EnableAutomatic)),
                (1, Gen.Constant(RotationStep.DisableAutomatic)))
            .ListOf()
            .Select(steps => steps.ToArray()));

    private sealed class Model(DateTimeOffset created)
    {
        public List<(KeyRotationType? Type, DateTimeOffset Date, long Encryptions)> Materials { get; } = [(null, created, 0)];
        public int? Period { get; set; }
        public DateTimeOffset? Next { get; set; }

        public int OnDemand => Materials.Count(m => m.Type == KeyRotationType.OnDemand);

        /// <summary>What every use of the key does first: apply a due scheduled rotation.</summary>
        public void ApplyDue(DateTimeOffset now)
        {
            if (Period is { } period && Next is { } due && due <= now)
            {
                while (due <= now)
                {
                    due = due.AddDays(period);
                }

                Next = due;
                Materials.Add((KeyRotationType.Automatic, now, 0));
            }
        }

        public void Encrypt(DateTimeOffset now)
        {
            if (Materials[^1].Encryptions >= Cap)
            {
                Materials.Add((KeyRotationType.Automatic, now, 0));
            }

            Materials[^1] = Materials[^1] with { Encryptions = Materials[^1].Encryptions + 1 };
        }
    }

    [Property(Arbitrary = new[] { typeof(RotationModelProperties) }, MaxTest = 40)]
    public async Task Any_rotation_history_agrees_with_the_model_and_every_ciphertext_still_decrypts(RotationStep[] steps, int seed)
    {
        var ct = TestContext.Current.CancellationToken;
        var store = new InMemoryKeyStore();
        var root = new StaticRootKeyProvider(new byte[32]);
        var options = new EnvelopeKmsOptions { MaxEncryptionsPerKeyMaterial = Cap };
        var kms = new TestKeyManager(store, root, options);
        try
        {
            var random = new Random(seed);
            var context = new Dictionary<string, string>(StringComparer.Ordinal) { ["model"] = "rotation" };
            var keyId = (await kms.Manager.CreateKeyAsync("model", ct)).KeyId;
            var model = new Model(kms.Clock.GetUtcNow());
            var blobs = new List<(byte[] Blob, byte[] Plaintext)>();

            foreach (var step in steps)
            {
                var now = kms.Clock.GetUtcNow();
                switch (step)
                {
                    case RotationStep.Encrypt:
                        var plaintext = BitConverter.GetBytes(random.NextInt64());
                        blobs.Add((await kms.Manager.EncryptAsync(keyId, plaintext, context, ct), plaintext));
                        model.ApplyDue(now);
                        model.Encrypt(now);
                        break;

                    case RotationStep.RotateOnDemand:
                        model.ApplyDue(now);
                        if (model.OnDemand >= KeyManager.MaxOnDemandRotations)
                        {
                            await Assert.ThrowsAsync<KmsLimitExceededException>(() => kms.Manager.RotateKeyOnDemandAsync(new RotateKeyOnDemandRequest { KeyId = keyId }, ct));
                        }
                        else
                        {
                            await kms.Manager.RotateKeyOnDemandAsync(new RotateKeyOnDemandRequest { KeyId = keyId }, ct);
                            model.Materials.Add((KeyRotationType.OnDemand, now, 0));
                        }

                        break;

                    case RotationStep.AdvanceTime:
                        kms.Clock.Advance(TimeSpan.FromDays(random.Next(1, 200)) + TimeSpan.FromTicks(random.Next()));
                        break;

                    case RotationStep.Restart:
                        kms.Dispose();
                        var restarted = new TestKeyManager(store, root, options);
                        restarted.Clock.SetUtcNow(now);
                        kms = restarted;
                        break;

                    case RotationStep.ReEncrypt when blobs.Count > 0:
                        var (blob, expected) = blobs[random.Next(blobs.Count)];
                        var moved = await kms.Manager.ReEncryptAsync(new ReEncryptRequest { CiphertextBlob = blob, SourceEncryptionContext = context, DestinationKeyId = keyId, DestinationEncryptionContext = context }, ct);
                        blobs.Add((moved.CiphertextBlob, expected));
                        model.ApplyDue(now);
                        model.Encrypt(now);
                        break;

                    case RotationStep.EnableAutomatic:
                        await kms.Manager.EnableKeyRotationAsync(new EnableKeyRotationRequest { KeyId = keyId, RotationPeriodInDays = 90 }, ct);
                        model.ApplyDue(now);
                        model.Next = model.Period is { } old && model.Next is { } due ? due.AddDays(90 - old) : now.AddDays(90);
                        model.Period = 90;
                        break;

                    case RotationStep.DisableAutomatic:
                        await kms.Manager.DisableKeyRotationAsync(new DisableKeyRotationRequest { KeyId = keyId }, ct);
                        model.ApplyDue(now);
                        model.Period = null;
                        model.Next = null;
                        break;
                }

                // The listing is a use of the key too: it applies a rotation that fell due with the last clock advance.
                model.ApplyDue(kms.Clock.GetUtcNow());
                await AssertHistoryAsync(kms.Manager, keyId, model, ct);
                if (blobs.Count > 0)
                {
                    var (blob, expected) = blobs[random.Next(blobs.Count)];
                    Assert.Equal(expected, await kms.Manager.DecryptAsync(blob, context, ct));
                }
            }

            foreach (var (blob, expected) in blobs)
            {
                Assert.Equal(expected, await kms.Manager.DecryptAsync(blob, context, ct));
            }
        }
        finally
        {
            kms.Dispose();
        }
    }

    private static async Task AssertHistoryAsync(KeyManager manager, string keyId, Model model, CancellationToken ct)
    {
        var listed = new List<RotationsListEntry>();
        string? marker = null;
        do
        {
            var page = await manager.ListKeyRotationsAsync(new ListKeyRotationsRequest { KeyId = keyId, IncludeKeyMaterial = IncludeKeyMaterial.AllKeyMaterial, Limit = 10, Marker = marker }, ct);
            listed.AddRange(page.Items);
            marker = page.NextMarker;
        }
        while (marker is not null);

        Assert.Equal(model.Materials.Select(m => (m.Type, m.Date)), listed.Select(m => (m.RotationType, m.RotationDate)));
        Assert.Equal(listed.Count - 1, listed.FindIndex(m => m.KeyMaterialState == KeyMaterialState.Current));
        Assert.Single(listed, m => m.KeyMaterialState == KeyMaterialState.Current);
        var status = await manager.GetKeyRotationStatusAsync(new GetKeyRotationStatusRequest { KeyId = keyId }, ct);
        Assert.Equal(model.Period, status.RotationPeriodInDays);
        Assert.Equal(model.Next, status.NextRotationDate);
    }
}
