// EnvelopeKms key rotation: encrypt, rotate on demand and on a schedule (by moving a demo clock a
// quarter ahead), decrypt what every key material version encrypted, list the versions, and move old
// ciphertexts to the current material with ReEncrypt. The key id never changes.
//
//   dotnet run --project samples/EnvelopeKms.Samples.Rotation [folder]
//
// Keeps its keys in a SQLite database, ./.rotation/keys.db (or in the folder given), protected by a
// development root key file beside it. Each run makes a new demo key (alias/rotation-demo points to the
// newest) and schedules the previous run's key for deletion.

using System.Text;
using EnvelopeKms;
using Microsoft.Extensions.DependencyInjection;

const string Alias = "alias/rotation-demo";
var context = new Dictionary<string, string> { ["app"] = "rotation-sample" };

var home = Path.GetFullPath(args.Length > 0 ? args[0] : ".rotation");
var storePath = Path.Combine(home, "keys.db");
var rootKeyPath = Path.Combine(home, "development-root.key");

Console.WriteLine("EnvelopeKms key rotation");
Console.WriteLine("========================");
Console.WriteLine($"Key store:            {storePath} (SQLite)");

// A clock the sample can move forward, so that a scheduled rotation falls due without waiting 90 days.
var clock = new DemoClock(TimeProvider.System.GetUtcNow());
var services = new ServiceCollection();
services.AddSingleton<TimeProvider>(clock);
services.AddEnvelopeKms(b => b
    .PersistKeysToSqlite(storePath)
    .ProtectKeysWithDevelopmentRootKey(rootKeyPath));

try
{
    Directory.CreateDirectory(home);
    await using var provider = services.BuildServiceProvider();
    var kms = provider.GetRequiredService<IKeyManager>();

    // 1. A symmetric key, and data encrypted under its first key material.
    Step(1, "Create a key and encrypt under its first material");
    var key = (await kms.CreateKeyAsync(new CreateKeyRequest { Description = "Rotation demo key" })).KeyMetadata;
    await PointAliasAsync(kms, key.KeyId);
    Console.WriteLine($"   Created key: {key.KeyId} (alias {Alias})");
    var first = await EncryptAsync(kms, "invoice #1001");
    Console.WriteLine($"   Encrypt:     \"invoice #1001\" with material {Short(first.KeyMaterialId)}");

    // 2. Rotate on demand: new encryptions use new material; the key id stays the same.
    Step(2, "Rotate on demand");
    var onDemand = await kms.RotateKeyOnDemandAsync(new RotateKeyOnDemandRequest { KeyId = key.KeyId });
    var second = await EncryptAsync(kms, "invoice #1002");
    Console.WriteLine($"   RotateKeyOnDemand: material {Short(onDemand.KeyMaterialId)} is current");
    Console.WriteLine($"   Encrypt:     \"invoice #1002\" with material {Short(second.KeyMaterialId)}, same key id {second.KeyId == first.KeyId}");

    // 3. Automatic rotation every 90 days; move the demo clock past the due date.
    Step(3, "Rotate on a schedule (every 90 days)");
    await kms.EnableKeyRotationAsync(new EnableKeyRotationRequest { KeyId = key.KeyId, RotationPeriodInDays = 90 });
    var status = await kms.GetKeyRotationStatusAsync(new GetKeyRotationStatusRequest { KeyId = key.KeyId });
    Console.WriteLine($"   EnableKeyRotation: every {status.RotationPeriodInDays} days, next rotation {status.NextRotationDate:u}");
    clock.Advance(TimeSpan.FromDays(90));
    Console.WriteLine($"   Demo clock:  moved 90 days ahead, to {clock.GetUtcNow():u}");
    var third = await EncryptAsync(kms, "invoice #1003");
    Console.WriteLine($"   Encrypt:     \"invoice #1003\" with material {Short(third.KeyMaterialId)} (the due rotation was applied before this use)");
    status = await kms.GetKeyRotationStatusAsync(new GetKeyRotationStatusRequest { KeyId = key.KeyId });
    Console.WriteLine($"   Next rotation: {status.NextRotationDate:u}");

    // 4. Every ciphertext still decrypts: old material is kept for as long as the key exists.
    Step(4, "Decrypt the old and the new ciphertexts");
    foreach (var (label, blob) in new[] { ("first", first.CiphertextBlob), ("second", second.CiphertextBlob), ("third", third.CiphertextBlob) })
    {
        using var decrypted = await kms.DecryptAsync(new DecryptRequest { CiphertextBlob = blob, EncryptionContext = context });
        Console.WriteLine($"   Decrypt {label,-6}  \"{Encoding.UTF8.GetString(decrypted.Plaintext)}\" (material {Short(decrypted.KeyMaterialId)})");
    }

    // 5. The versions of the key.
    Step(5, "List the key's material versions");
    var rotations = await kms.ListKeyRotationsAsync(new ListKeyRotationsRequest { KeyId = key.KeyId, IncludeKeyMaterial = IncludeKeyMaterial.AllKeyMaterial });
    foreach (var entry in rotations.Items)
    {
        Console.WriteLine($"   {Short(entry.KeyMaterialId)}  {entry.RotationDate:u}  {(entry.RotationType?.ToKmsName() ?? "(first)"),-10} {entry.KeyMaterialState.ToKmsName()}");
    }

    // 6. Move the oldest ciphertext to the current material without exposing the plaintext.
    Step(6, "Re-encrypt the oldest ciphertext under the current material");
    var moved = await kms.ReEncryptAsync(new ReEncryptRequest
    {
        CiphertextBlob = first.CiphertextBlob,
        SourceEncryptionContext = context,
        DestinationKeyId = Alias,
        DestinationEncryptionContext = context,
    });
    using (var check = await kms.DecryptAsync(new DecryptRequest { CiphertextBlob = moved.CiphertextBlob, EncryptionContext = context }))
    {
        Console.WriteLine($"   ReEncrypt:   material {Short(first.KeyMaterialId)} -> {Short(check.KeyMaterialId)}, decrypts to \"{Encoding.UTF8.GetString(check.Plaintext)}\"");
        if (check.KeyMaterialId != third.KeyMaterialId)
        {
            throw new InvalidOperationException("ReEncrypt did not move the ciphertext to the current material.");
        }
    }

    Console.WriteLine();
    Console.WriteLine($"Done. Run it again for a new demo key (the previous one is scheduled for deletion); delete {home} to start over.");
    return 0;

    async Task<EncryptResponse> EncryptAsync(IKeyManager km, string text)
        => await km.EncryptAsync(new EncryptRequest { KeyId = Alias, Plaintext = Encoding.UTF8.GetBytes(text), EncryptionContext = context });
}
catch (KmsException e)
{
    Console.WriteLine();
    Console.WriteLine($"The rotation sample stopped: {e.ErrorCode}: {e.Message}");
    return 1;
}

// Points the alias at the new key; the key of an earlier run is scheduled for deletion.
static async Task PointAliasAsync(IKeyManager kms, string keyId)
{
    try
    {
        var previous = await kms.DescribeKeyAsync(Alias);
        await kms.UpdateAliasAsync(new UpdateAliasRequest { AliasName = Alias, TargetKeyId = keyId });
        await kms.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = previous.KeyId, PendingWindowInDays = 7 });
        Console.WriteLine($"   Previous:    {previous.KeyId} scheduled for deletion in 7 days");
    }
    catch (KmsNotFoundException)
    {
        await kms.CreateAliasAsync(new CreateAliasRequest { AliasName = Alias, TargetKeyId = keyId });
    }
}

static string Short(string materialId) => materialId[..12] + "…";

static void Step(int number, string title)
{
    Console.WriteLine();
    Console.WriteLine($"{number}. {title}");
}

/// <summary>A clock that starts at the real time and moves only when told to.</summary>
internal sealed class DemoClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}
