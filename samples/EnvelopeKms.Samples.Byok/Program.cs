// EnvelopeKms "bring your own key": create a key of origin EXTERNAL, get import parameters, wrap your
// own 256-bit key material to the wrapping public key (with the openssl command line, as the AWS KMS
// documentation shows, when it is on PATH; with .NET otherwise), import it with an expiry, encrypt and
// decrypt, let the material expire (a demo clock moves ahead), see the key in PendingImport and the
// failure, re-import the same material, and decrypt the old ciphertext again.
//
//   dotnet run --project samples/EnvelopeKms.Samples.Byok [folder] [--no-openssl]
//
// Works in ./.byok (or the folder given): the wrapping public key, the material and its wrapped form are
// written there as files, as with the AWS CLI. The keys live in memory for the run.

using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using EnvelopeKms;
using Microsoft.Extensions.DependencyInjection;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Parameters;

var home = Path.GetFullPath(args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal)) ?? ".byok");
var useOpenSsl = !args.Contains("--no-openssl") && FindOpenSsl() is not null;
Directory.CreateDirectory(home);

Console.WriteLine("EnvelopeKms bring your own key (imported key material)");
Console.WriteLine("======================================================");
Console.WriteLine($"Working folder: {home}");

var clock = new DemoClock(TimeProvider.System.GetUtcNow());
var services = new ServiceCollection();
services.AddSingleton<TimeProvider>(clock);
services.AddEnvelopeKms(b => b
    .UseInMemoryKeyStore()
    .ProtectKeysWithRootKey(Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))));

try
{
    await using var provider = services.BuildServiceProvider();
    var kms = provider.GetRequiredService<IKeyManager>();

    Step(1, "Create a key with origin EXTERNAL");
    var key = (await kms.CreateKeyAsync(new CreateKeyRequest { Description = "BYOK demo key", Origin = KeyOrigin.External })).KeyMetadata;
    Console.WriteLine($"   Created key: {key.KeyId}, state {key.KeyState.ToKmsName()}");

    Step(2, "Get the wrapping public key and the import token (RSA_2048, RSAES_OAEP_SHA_256)");
    var parameters = await kms.GetParametersForImportAsync(new GetParametersForImportRequest
    {
        KeyId = key.KeyId,
        WrappingAlgorithm = ImportWrappingAlgorithm.RsaesOaepSha256,
        WrappingKeySpec = WrappingKeySpec.Rsa2048,
    });
    await File.WriteAllBytesAsync(Path.Combine(home, "WrappingPublicKey.bin"), parameters.PublicKey);
    Console.WriteLine($"   Public key:  WrappingPublicKey.bin ({parameters.PublicKey.Length} bytes, DER SubjectPublicKeyInfo)");
    Console.WriteLine($"   Import token: {parameters.ImportToken.Length} bytes, valid to {parameters.ParametersValidTo:u}");

    Step(3, useOpenSsl ? "Make and wrap 256-bit key material with openssl" : "Make and wrap 256-bit key material with .NET (openssl not used)");
    byte[] material;
    byte[] encrypted;
    if (useOpenSsl)
    {
        await RunOpenSslAsync(home, "rand", "-out", "PlaintextKeyMaterial.bin", "32");
        await RunOpenSslAsync(home, "pkeyutl", "-encrypt", "-in", "PlaintextKeyMaterial.bin", "-out", "EncryptedKeyMaterial.bin",
            "-inkey", "WrappingPublicKey.bin", "-keyform", "DER", "-pubin",
            "-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha256", "-pkeyopt", "rsa_mgf1_md:sha256");
        material = await File.ReadAllBytesAsync(Path.Combine(home, "PlaintextKeyMaterial.bin"));
        encrypted = await File.ReadAllBytesAsync(Path.Combine(home, "EncryptedKeyMaterial.bin"));
    }
    else
    {
        material = RandomNumberGenerator.GetBytes(32);
        using var rsa = RSA.Create();
        rsa.ImportSubjectPublicKeyInfo(parameters.PublicKey, out _);
        encrypted = rsa.Encrypt(material, RSAEncryptionPadding.OaepSHA256);
        Console.WriteLine("   RSA.Encrypt(material, RSAEncryptionPadding.OaepSHA256)");
    }

    Console.WriteLine($"   Wrapped material: {encrypted.Length} bytes");

    Step(4, "Import it, expiring in 30 days");
    var imported = await kms.ImportKeyMaterialAsync(new ImportKeyMaterialRequest
    {
        KeyId = key.KeyId,
        ImportToken = parameters.ImportToken,
        EncryptedKeyMaterial = encrypted,
        ExpirationModel = ExpirationModel.KeyMaterialExpires,
        ValidTo = clock.GetUtcNow().AddDays(30),
    });
    Console.WriteLine($"   ImportKeyMaterial: material {Short(imported.KeyMaterialId)}, state {(await StateAsync(kms, key.KeyId)).ToKmsName()}");

    Step(5, "Encrypt and decrypt");
    var ciphertext = (await kms.EncryptAsync(new EncryptRequest { KeyId = key.KeyId, Plaintext = Encoding.UTF8.GetBytes("payroll 2026") })).CiphertextBlob;
    using (var decrypted = await kms.DecryptAsync(new DecryptRequest { CiphertextBlob = ciphertext }))
    {
        Console.WriteLine($"   Decrypt: \"{Encoding.UTF8.GetString(decrypted.Plaintext)}\"");
    }

    Step(6, "Let the material expire");
    clock.Advance(TimeSpan.FromDays(31));
    Console.WriteLine("   Demo clock:  moved 31 days ahead");
    try
    {
        await kms.EncryptAsync(new EncryptRequest { KeyId = key.KeyId, Plaintext = new byte[] { 1 } });
        Console.WriteLine("   Encrypt unexpectedly succeeded");
    }
    catch (KmsInvalidStateException e)
    {
        Console.WriteLine($"   Encrypt refused: {e.ErrorCode}");
    }

    Console.WriteLine($"   State: {(await StateAsync(kms, key.KeyId)).ToKmsName()}");

    Step(7, "Re-import the same material (new parameters: a token is used once)");
    var again = await kms.GetParametersForImportAsync(new GetParametersForImportRequest
    {
        KeyId = key.KeyId,
        WrappingAlgorithm = ImportWrappingAlgorithm.RsaAesKeyWrapSha256,
        WrappingKeySpec = WrappingKeySpec.Rsa3072,
    });
    var rewrapped = WrapRsaAes(again.PublicKey, material);
    var reimported = await kms.ImportKeyMaterialAsync(new ImportKeyMaterialRequest
    {
        KeyId = key.KeyId,
        ImportToken = again.ImportToken,
        EncryptedKeyMaterial = rewrapped,
        ExpirationModel = ExpirationModel.KeyMaterialDoesNotExpire,
        ImportType = ImportType.ExistingKeyMaterial,
    });
    Console.WriteLine($"   ImportKeyMaterial (RSA_AES_KEY_WRAP_SHA_256): material {Short(reimported.KeyMaterialId)}, same material {reimported.KeyMaterialId == imported.KeyMaterialId}");
    using (var decrypted = await kms.DecryptAsync(new DecryptRequest { CiphertextBlob = ciphertext }))
    {
        Console.WriteLine($"   Decrypt old ciphertext: \"{Encoding.UTF8.GetString(decrypted.Plaintext)}\"");
    }

    Step(8, "Rotate to new imported material (NEW_KEY_MATERIAL, then RotateKeyOnDemand)");
    var next = RandomNumberGenerator.GetBytes(32);
    var fresh = await kms.GetParametersForImportAsync(new GetParametersForImportRequest
    {
        KeyId = key.KeyId,
        WrappingAlgorithm = ImportWrappingAlgorithm.RsaAesKeyWrapSha256,
        WrappingKeySpec = WrappingKeySpec.Rsa3072,
    });
    var pending = await kms.ImportKeyMaterialAsync(new ImportKeyMaterialRequest
    {
        KeyId = key.KeyId,
        ImportToken = fresh.ImportToken,
        EncryptedKeyMaterial = WrapRsaAes(fresh.PublicKey, next),
        ExpirationModel = ExpirationModel.KeyMaterialDoesNotExpire,
        ImportType = ImportType.NewKeyMaterial,
        KeyMaterialDescription = "second material",
    });
    CryptographicOperations.ZeroMemory(next);
    foreach (var entry in (await kms.ListKeyRotationsAsync(new ListKeyRotationsRequest { KeyId = key.KeyId, IncludeKeyMaterial = IncludeKeyMaterial.AllKeyMaterial })).Items)
    {
        Console.WriteLine($"   Material {Short(entry.KeyMaterialId)}: {entry.KeyMaterialState.ToKmsName()}, {entry.ImportState?.ToKmsName()}");
    }

    var rotated = await kms.RotateKeyOnDemandAsync(new RotateKeyOnDemandRequest { KeyId = key.KeyId });
    Console.WriteLine($"   RotateKeyOnDemand: current material {Short(rotated.KeyMaterialId)}, the imported one {rotated.KeyMaterialId == pending.KeyMaterialId}");
    using (var decrypted = await kms.DecryptAsync(new DecryptRequest { CiphertextBlob = ciphertext }))
    {
        Console.WriteLine($"   Decrypt old ciphertext after the rotation: \"{Encoding.UTF8.GetString(decrypted.Plaintext)}\"");
    }

    CryptographicOperations.ZeroMemory(material);
    File.Delete(Path.Combine(home, "PlaintextKeyMaterial.bin"));
    Console.WriteLine();
    Console.WriteLine("Done.");
    return 0;
}
catch (KmsException e)
{
    Console.Error.WriteLine($"Failed: {e.ErrorCode}: {e.Message}");
    return 1;
}

static async Task<KeyState> StateAsync(IKeyManager kms, string keyId)
    => (await kms.DescribeKeyAsync(new DescribeKeyRequest { KeyId = keyId })).KeyMetadata.KeyState;

// RSA_AES_KEY_WRAP_SHA_256: RSA-OAEP-SHA-256 of a fresh AES-256 key, then the material wrapped with it
// (AES key wrap with padding, RFC 5649; .NET has no KWP, BouncyCastle does).
static byte[] WrapRsaAes(byte[] publicKey, byte[] material)
{
    var aesKey = RandomNumberGenerator.GetBytes(32);
    using var rsa = RSA.Create();
    rsa.ImportSubjectPublicKeyInfo(publicKey, out _);
    var engine = new AesWrapPadEngine();
    engine.Init(true, new KeyParameter(aesKey));
    var wrapped = engine.Wrap(material, 0, material.Length);
    var result = rsa.Encrypt(aesKey, RSAEncryptionPadding.OaepSHA256).Concat(wrapped).ToArray();
    CryptographicOperations.ZeroMemory(aesKey);
    return result;
}

static async Task RunOpenSslAsync(string folder, params string[] arguments)
{
    Console.WriteLine($"   $ openssl {string.Join(' ', arguments)}");
    var start = new ProcessStartInfo(FindOpenSsl()!) { WorkingDirectory = folder, RedirectStandardError = true, RedirectStandardOutput = true };
    foreach (var argument in arguments)
    {
        start.ArgumentList.Add(argument);
    }

    using var process = Process.Start(start)!;
    var error = await process.StandardError.ReadToEndAsync();
    await process.WaitForExitAsync();
    if (process.ExitCode != 0)
    {
        throw new InvalidOperationException($"openssl failed ({process.ExitCode}): {error}");
    }
}

static string? FindOpenSsl()
    => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Select(d => Path.Combine(d, OperatingSystem.IsWindows() ? "openssl.exe" : "openssl"))
        .FirstOrDefault(File.Exists);

static string Short(string materialId) => materialId[..12] + "…";

static void Step(int number, string title)
{
    Console.WriteLine();
    Console.WriteLine($"{number}. {title}");
}

internal sealed class DemoClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}
