// EnvelopeKms multi-Region keys: two Regions (two key managers, each with its own store and root key)
// in one KmsRegionGroup. Create a multi-Region key in us-east-1, replicate it to eu-west-1, encrypt in
// us-east-1, rotate, lose us-east-1 (fail over), decrypt in eu-west-1, bring us-east-1 back, make
// eu-west-1 the primary Region and rotate from there.
//
//   dotnet run --project samples/EnvelopeKms.Samples.MultiRegion [folder]
//
// Each Region keeps its keys in <folder>/<region> (./.multi-region by default), sealed by its own root key.

using System.Security.Cryptography;
using System.Text;
using EnvelopeKms;
using EnvelopeKms.MultiRegion;

const string Primary = "us-east-1";
const string Secondary = "eu-west-1";
var home = Path.GetFullPath(args.FirstOrDefault() ?? ".multi-region");
Directory.CreateDirectory(home);
var rootKeys = new Dictionary<string, string>
{
    [Primary] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
    [Secondary] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
};

Console.WriteLine("EnvelopeKms multi-Region keys");
Console.WriteLine("=============================");
Console.WriteLine($"Working folder: {home}");

var group = new KmsRegionGroup();
KeyManager Open(string region) => KeyManagerFactory.Create(b => b
    .PersistKeysToFileSystem(Path.Combine(home, region))
    .ProtectKeysWithRootKey(rootKeys[region])
    .Configure(o => o.Region = region)
    .JoinRegionGroup(group));

var east = Open(Primary);
using var west = Open(Secondary);
Console.WriteLine($"Regions in the group: {string.Join(", ", group.Regions)}");

Step(1, $"Create a multi-Region key in {Primary}");
var key = (await east.CreateKeyAsync(new CreateKeyRequest { Description = "orders", MultiRegion = true })).KeyMetadata;
await east.CreateAliasAsync(new CreateAliasRequest { AliasName = "alias/orders", TargetKeyId = key.KeyId });
Describe(key);

Step(2, $"Replicate it to {Secondary} (its own description, tags and alias)");
var replicated = await east.ReplicateKeyAsync(new ReplicateKeyRequest
{
    KeyId = key.KeyId,
    ReplicaRegion = Secondary,
    Description = "orders (disaster recovery copy)",
    Tags = [new KeyTag("role", "dr")],
});
await west.CreateAliasAsync(new CreateAliasRequest { AliasName = "alias/orders-dr", TargetKeyId = key.KeyId });
Describe(replicated.ReplicaKeyMetadata);
Describe((await east.DescribeKeyAsync(new DescribeKeyRequest { KeyId = key.KeyId })).KeyMetadata);

Step(3, $"Encrypt in {Primary}");
var context = new Dictionary<string, string> { ["table"] = "orders" };
var encrypted = await east.EncryptAsync(new EncryptRequest { KeyId = "alias/orders", Plaintext = Encoding.UTF8.GetBytes("order 1042: 3 crates"), EncryptionContext = context });
Console.WriteLine($"   Ciphertext: {encrypted.CiphertextBlob.Length} bytes, key material {encrypted.KeyMaterialId[..12]}…");

Step(4, $"Rotate in {Primary}: the new material reaches {Secondary}");
var rotated = await east.RotateKeyOnDemandAsync(new RotateKeyOnDemandRequest { KeyId = key.KeyId });
var westNow = (await west.DescribeKeyAsync(new DescribeKeyRequest { KeyId = key.KeyId })).KeyMetadata;
Console.WriteLine($"   Current material in {Primary}: {rotated.KeyMaterialId[..12]}…, in {Secondary}: {westNow.CurrentKeyMaterialId![..12]}…");

Step(5, $"Fail over: {Primary} is lost");
east.Dispose();
Console.WriteLine($"   Regions in the group: {string.Join(", ", group.Regions)}");
using (var plaintext = await west.DecryptAsync(new DecryptRequest { CiphertextBlob = encrypted.CiphertextBlob, EncryptionContext = context }))
{
    Console.WriteLine($"   Decrypt in {Secondary}: \"{Encoding.UTF8.GetString(plaintext.Plaintext)}\"");
}

var duringOutage = await west.EncryptAsync(new EncryptRequest { KeyId = "alias/orders-dr", Plaintext = Encoding.UTF8.GetBytes("order 1043: 1 crate"), EncryptionContext = context });
Console.WriteLine($"   Encrypt in {Secondary} during the outage: {duringOutage.CiphertextBlob.Length} bytes");
try
{
    await west.RotateKeyOnDemandAsync(new RotateKeyOnDemandRequest { KeyId = key.KeyId });
}
catch (KmsUnsupportedOperationException e)
{
    Console.WriteLine($"   Rotate in {Secondary} refused: {e.ErrorCode} (a replica follows its primary)");
}

Step(6, $"{Primary} is back: make {Secondary} the primary Region");
using var eastAgain = Open(Primary);
await eastAgain.UpdatePrimaryRegionAsync(new UpdatePrimaryRegionRequest { KeyId = key.KeyId, PrimaryRegion = Secondary });
Describe((await west.DescribeKeyAsync(new DescribeKeyRequest { KeyId = key.KeyId })).KeyMetadata);
Describe((await eastAgain.DescribeKeyAsync(new DescribeKeyRequest { KeyId = key.KeyId })).KeyMetadata);

Step(7, $"Rotate from the new primary in {Secondary}; decrypt in {Primary}");
var rotatedAgain = await west.RotateKeyOnDemandAsync(new RotateKeyOnDemandRequest { KeyId = key.KeyId });
Console.WriteLine($"   New material {rotatedAgain.KeyMaterialId[..12]}…, current in {Primary}: {(await eastAgain.DescribeKeyAsync(new DescribeKeyRequest { KeyId = key.KeyId })).KeyMetadata.CurrentKeyMaterialId![..12]}…");
using (var plaintext = await eastAgain.DecryptAsync(new DecryptRequest { CiphertextBlob = duringOutage.CiphertextBlob, EncryptionContext = context }))
{
    Console.WriteLine($"   Decrypt in {Primary} what {Secondary} encrypted during the outage: \"{Encoding.UTF8.GetString(plaintext.Plaintext)}\"");
}

Console.WriteLine();
Console.WriteLine("Done.");
return 0;

static void Step(int number, string title)
{
    Console.WriteLine();
    Console.WriteLine($"{number}. {title}");
}

static void Describe(KeyMetadata key)
{
    var config = key.MultiRegionConfiguration!;
    Console.WriteLine($"   {key.Arn}: {config.MultiRegionKeyType.ToString().ToUpperInvariant()}, state {key.KeyState.ToKmsName()}, \"{key.Description}\"");
    Console.WriteLine($"     primary {config.PrimaryKey.Region}; replicas [{string.Join(", ", config.ReplicaKeys.Select(r => r.Region))}]");
}
