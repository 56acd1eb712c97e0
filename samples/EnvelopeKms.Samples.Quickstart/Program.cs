// EnvelopeKms quickstart: the story of the product in one run.
//
//   dotnet run --project samples/EnvelopeKms.Samples.Quickstart [folder]
//
// Keeps its keys in a SQLite database, ./.quickstart/keys.db (or in the folder given), protected by a
// development root key file beside it. Run it again and it reuses the same store, key and alias.

using System.Security.Cryptography;
using System.Text;
using EnvelopeKms;
using Microsoft.Extensions.DependencyInjection;

const string AliasName = "alias/quickstart";

var home = Path.GetFullPath(args.Length > 0 ? args[0] : ".quickstart");
var storePath = Path.Combine(home, "keys.db");
var rootKeyPath = Path.Combine(home, "development-root.key");
var filesDirectory = Path.Combine(home, "files");
var rootKeyExisted = File.Exists(rootKeyPath);

Console.WriteLine("EnvelopeKms quickstart");
Console.WriteLine("======================");
Console.WriteLine($"Key store:            {storePath} (SQLite)");
Console.WriteLine($"Development root key: {rootKeyPath}{(rootKeyExisted ? " (from an earlier run)" : "")}");

try
{
    using var kms = KeyManagerFactory.Create(b => b
        .PersistKeysToSqlite(storePath)
        .ProtectKeysWithDevelopmentRootKey(rootKeyPath));

    // 1. A customer-managed key with a description and an alias (reused on later runs).
    Step(1, "A customer-managed key with an alias");
    var key = await GetOrCreateKeyAsync(kms);
    if (!rootKeyExisted && File.Exists(rootKeyPath))
    {
        Console.WriteLine();
        Console.WriteLine($"   First run: created a development root key file with owner-only permissions{Permissions(rootKeyPath)}.");
        Console.WriteLine("   It wraps every key in the store, so anyone who can read it can read every key.");
        Console.WriteLine("   It is for this demo only: production must supply the root key, for example with");
        Console.WriteLine("   ProtectKeysWithRootKeyFromEnvironment() and a value from `openssl rand -base64 32`.");
    }

    // 2. Encrypt and decrypt a secret bound to an encryption context.
    Step(2, "Encrypt and decrypt a secret with an encryption context");
    var secret = "db-password: correct horse battery staple";
    var context = new Dictionary<string, string> { ["app"] = "quickstart", ["purpose"] = "database-password" };
    var ciphertext = await kms.EncryptAsync(AliasName, Encoding.UTF8.GetBytes(secret), context);
    Console.WriteLine($"   Secret:      \"{secret}\"");
    Console.WriteLine($"   Context:     {Format(context)}");
    Console.WriteLine($"   Ciphertext:  {ciphertext.Length} bytes (format version, key id, key-material id, nonce, encrypted secret, tag)");
    using (var decrypted = await kms.DecryptAsync(new DecryptRequest { CiphertextBlob = ciphertext, EncryptionContext = context }))
    {
        Console.WriteLine($"   Decrypted:   \"{Encoding.UTF8.GetString(decrypted.Plaintext)}\" (the key id was read from the ciphertext)");
    }

    // 3. A wrong encryption context fails, with the same error as any corrupt ciphertext.
    Step(3, "Decrypting with the wrong context fails");
    var wrongContext = new Dictionary<string, string> { ["app"] = "quickstart", ["purpose"] = "api-token" };
    Console.WriteLine($"   Context:     {Format(wrongContext)}");
    try
    {
        await kms.DecryptAsync(ciphertext, wrongContext);
        throw new InvalidOperationException("Decrypt with the wrong context succeeded.");
    }
    catch (KmsInvalidCiphertextException e)
    {
        Console.WriteLine($"   Refused:     {e.ErrorCode}: {e.Message}");
    }

    // 4. Envelope encryption: a data key from KMS encrypts a file locally.
    Step(4, "Envelope encryption: a data key encrypts a file locally");
    await EncryptAndDecryptFileAsync(kms);

    // 5. A disabled key refuses to work.
    Step(5, "Disable the key");
    await kms.DisableKeyAsync(new DisableKeyRequest { KeyId = key.KeyId });
    Console.WriteLine($"   DisableKey:  {(await kms.DescribeKeyAsync(key.KeyId)).KeyState.ToKmsName()}");
    try
    {
        await kms.EncryptAsync(AliasName, "one more secret"u8.ToArray(), context);
        throw new InvalidOperationException("Encrypt under a disabled key succeeded.");
    }
    catch (KmsDisabledException e)
    {
        Console.WriteLine($"   Encrypt:     {e.ErrorCode}: {e.Message}");
    }

    // 6. Re-enabled, it works again.
    Step(6, "Re-enable the key");
    await kms.EnableKeyAsync(new EnableKeyRequest { KeyId = key.KeyId });
    Console.WriteLine($"   EnableKey:   {(await kms.DescribeKeyAsync(key.KeyId)).KeyState.ToKmsName()}");
    var again = await kms.EncryptAsync(AliasName, "one more secret"u8.ToArray(), context);
    Console.WriteLine($"   Encrypt:     works again ({again.Length}-byte ciphertext)");

    Console.WriteLine();
    Console.WriteLine($"Done. Run it again to reuse the same store and key; delete {home} to start over.");
    return 0;
}
catch (KmsException e)
{
    Console.WriteLine();
    Console.WriteLine($"The quickstart stopped: {e.ErrorCode}: {e.Message}");
    return 1;
}

// Reuses the key behind the alias from an earlier run, or creates the key and the alias.
static async Task<KeyMetadata> GetOrCreateKeyAsync(IKeyManager kms)
{
    try
    {
        var existing = await kms.DescribeKeyAsync(AliasName);
        Console.WriteLine($"   Reusing key: {existing.KeyId} ({AliasName}), created {existing.CreationDate:u} on an earlier run");
        if (existing.KeyState == KeyState.Disabled)
        {
            // An earlier run stopped between steps 5 and 6.
            await kms.EnableKeyAsync(new EnableKeyRequest { KeyId = existing.KeyId });
            Console.WriteLine("   It was left disabled by an interrupted run; enabled it again.");
        }

        return existing;
    }
    catch (KmsNotFoundException)
    {
        // First run on this store: no such alias yet.
    }

    var created = await kms.CreateKeyAsync(new CreateKeyRequest
    {
        Description = "Quickstart demo key",
        Tags = [new KeyTag("project", "quickstart")],
    });
    var key = created.KeyMetadata;
    await kms.CreateAliasAsync(new CreateAliasRequest { AliasName = AliasName, TargetKeyId = key.KeyId });
    Console.WriteLine($"   Created key: {key.KeyId}");
    Console.WriteLine($"   ARN:         {key.Arn}");
    Console.WriteLine($"   Description: \"{key.Description}\", {key.KeySpec.ToKmsName()}, {key.KeyUsage.ToKmsName()}, {key.KeyState.ToKmsName()}");
    Console.WriteLine($"   Alias:       {AliasName} -> {key.KeyId}");
    return key;
}

// GenerateDataKey, AES-GCM on the file with the plaintext data key, encrypted data key stored beside it.
async Task EncryptAndDecryptFileAsync(IKeyManager kms)
{
    Directory.CreateDirectory(filesDirectory);
    var reportPath = Path.Combine(filesDirectory, "report.txt");
    var encryptedPath = reportPath + ".encrypted";
    var dataKeyPath = reportPath + ".datakey";
    var report = $"Quarterly report, written {DateTimeOffset.UtcNow:u}.\nRevenue is up; the secrets stay secret.\n";
    await File.WriteAllTextAsync(reportPath, report);
    Console.WriteLine($"   Wrote:       {Relative(reportPath)} ({new FileInfo(reportPath).Length} bytes)");

    // The data key's encryption context names the file it protects.
    var fileContext = new Dictionary<string, string> { ["file"] = "report.txt" };
    using (var dataKey = await kms.GenerateDataKeyAsync(new GenerateDataKeyRequest { KeyId = AliasName, KeySpec = DataKeySpec.Aes256, EncryptionContext = fileContext }))
    {
        Console.WriteLine($"   Data key:    GenerateDataKey returned a {dataKey.Plaintext.Length * 8}-bit key, in plaintext and encrypted under {AliasName}");

        // Local AES-256-GCM: nonce (12) | ciphertext | tag (16). No KMS call per byte of data.
        var plaintext = await File.ReadAllBytesAsync(reportPath);
        var sealedFile = new byte[12 + plaintext.Length + 16];
        RandomNumberGenerator.Fill(sealedFile.AsSpan(0, 12));
        using (var aes = new AesGcm(dataKey.Plaintext, 16))
        {
            aes.Encrypt(sealedFile.AsSpan(0, 12), plaintext, sealedFile.AsSpan(12, plaintext.Length), sealedFile.AsSpan(12 + plaintext.Length));
        }

        await File.WriteAllBytesAsync(encryptedPath, sealedFile);
        await File.WriteAllBytesAsync(dataKeyPath, dataKey.CiphertextBlob);
        CryptographicOperations.ZeroMemory(dataKey.Plaintext);
        File.Delete(reportPath);
        Console.WriteLine($"   Encrypted:   {Relative(encryptedPath)} ({sealedFile.Length} bytes, AES-256-GCM, locally)");
        Console.WriteLine($"   Stored:      {Relative(dataKeyPath)} ({dataKey.CiphertextBlob.Length} bytes, the encrypted data key, beside the file)");
        Console.WriteLine($"   Zeroed the plaintext data key and deleted {Relative(reportPath)}; only encrypted copies remain.");
    }

    // Later: KMS decrypts the data key, the data key decrypts the file.
    var storedFile = await File.ReadAllBytesAsync(encryptedPath);
    var storedDataKey = await File.ReadAllBytesAsync(dataKeyPath);
    using var key = await kms.DecryptAsync(new DecryptRequest { CiphertextBlob = storedDataKey, EncryptionContext = fileContext });
    var recovered = new byte[storedFile.Length - 28];
    using (var aes = new AesGcm(key.Plaintext, 16))
    {
        aes.Decrypt(storedFile.AsSpan(0, 12), storedFile.AsSpan(12, recovered.Length), storedFile.AsSpan(12 + recovered.Length), recovered);
    }

    var text = Encoding.UTF8.GetString(recovered);
    Console.WriteLine($"   Decrypted:   Decrypt (KMS) returned the data key; it decrypted the file locally:");
    Console.WriteLine($"                {recovered.Length} bytes, {(text == report ? "identical to the original" : "DIFFERENT from the original")}: \"{text.Split('\n')[0]}\"");
    if (text != report)
    {
        throw new InvalidOperationException("The decrypted file differs from the original.");
    }
}

string Relative(string path) => Path.GetRelativePath(home, path);

static void Step(int number, string title)
{
    Console.WriteLine();
    Console.WriteLine($"{number}. {title}");
}

static string Format(Dictionary<string, string> context)
    => "{" + string.Join(", ", context.Select(p => $"\"{p.Key}\": \"{p.Value}\"")) + "}";

static string Permissions(string path)
    => OperatingSystem.IsWindows() ? "" : $" (mode {Convert.ToString((int)File.GetUnixFileMode(path), 8)})";
