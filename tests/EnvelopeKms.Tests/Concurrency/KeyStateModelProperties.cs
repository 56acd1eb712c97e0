using EnvelopeKms.Tests.Infrastructure;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace EnvelopeKms.Tests.Concurrency;

/// <summary>One step of a generated sequence of operations on one key.</summary>
public enum KeyStep
{
    Encrypt,
    DecryptAny,
    Disable,
    Enable,
}

/// <summary>
/// Model-based check of RELIABILITY row 48 in its sequential form: for any sequence of Encrypt,
/// Decrypt, DisableKey and EnableKey, every data-plane call fails as disabled exactly when the model
/// says the key is disabled, and every successful decrypt returns what was encrypted.
/// </summary>
public sealed class KeyStateModelProperties
{
    public static Arbitrary<KeyStep[]> Steps()
        => Arb.From(Gen.Frequency(
                (3, Gen.Constant(KeyStep.Encrypt)),
                (3, Gen.Constant(KeyStep.DecryptAny)),
                (1, Gen.Constant(KeyStep.Disable)),
                (1, Gen.Constant(KeyStep.Enable)))
            .ListOf()
            .Select(steps => steps.ToArray()));

    [Property(Arbitrary = new[] { typeof(KeyStateModelProperties) }, MaxTest = 60)]
    public async Task Any_sequence_of_operations_agrees_with_the_key_state_model(KeyStep[] steps, int seed)
    {
        var ct = TestContext.Current.CancellationToken;
        using var kms = new TestKeyManager();
        var manager = kms.Manager;
        var keyId = (await manager.CreateKeyAsync("model", ct)).KeyId;
        var random = new Random(seed);
        var enabled = true; // The model.
        var sealedItems = new List<(byte[] Blob, byte[] Plaintext)>();

        for (var i = 0; i < steps.Length; i++)
        {
            switch (steps[i])
            {
                case KeyStep.Disable:
                    await manager.DisableKeyAsync(new DisableKeyRequest { KeyId = keyId }, ct);
                    enabled = false;
                    break;

                case KeyStep.Enable:
                    await manager.EnableKeyAsync(new EnableKeyRequest { KeyId = keyId }, ct);
                    enabled = true;
                    break;

                case KeyStep.Encrypt:
                    var plaintext = BitConverter.GetBytes(random.NextInt64());
                    if (enabled)
                    {
                        sealedItems.Add((await manager.EncryptAsync(keyId, plaintext, cancellationToken: ct), plaintext));
                    }
                    else
                    {
                        await Assert.ThrowsAsync<KmsDisabledException>(() => manager.EncryptAsync(keyId, plaintext, cancellationToken: ct));
                    }

                    break;

                case KeyStep.DecryptAny when sealedItems.Count > 0:
                    var (blob, expected) = sealedItems[random.Next(sealedItems.Count)];
                    if (enabled)
                    {
                        Assert.Equal(expected, await manager.DecryptAsync(blob, cancellationToken: ct));
                    }
                    else
                    {
                        await Assert.ThrowsAsync<KmsDisabledException>(() => manager.DecryptAsync(blob, cancellationToken: ct));
                    }

                    break;
            }

            Assert.Equal(enabled ? KeyState.Enabled : KeyState.Disabled, (await manager.DescribeKeyAsync(keyId, ct)).KeyState);
        }
    }
}
