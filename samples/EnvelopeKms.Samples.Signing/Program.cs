// EnvelopeKms signing and MACs: sign a document with an asymmetric key and verify the signature
// without the library (in .NET and with openssl), then MAC a token with an HMAC key.
//
//   dotnet run --project samples/EnvelopeKms.Samples.Signing [folder]
//
// Keeps its keys in a SQLite database, ./.signing/keys.db (or in the folder given), protected by a
// development root key file beside it; writes the document, its signature and the public key there.
// Run it again and it reuses the same store, keys and aliases.

using System.ComponentModel;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using EnvelopeKms;
using Microsoft.Extensions.DependencyInjection;

const string SigningAlias = "alias/signing-documents";
const string MacAlias = "alias/signing-tokens";

var home = Path.GetFullPath(args.Length > 0 ? args[0] : ".signing");
var storePath = Path.Combine(home, "keys.db");
var rootKeyPath = Path.Combine(home, "development-root.key");
var documentPath = Path.Combine(home, "doc.txt");
var signaturePath = Path.Combine(home, "doc.sig");
var tamperedPath = Path.Combine(home, "doc-tampered.txt");
var publicKeyPath = Path.Combine(home, "public-key.pem");
var rootKeyExisted = File.Exists(rootKeyPath);

Console.WriteLine("EnvelopeKms signing and MACs");
Console.WriteLine("============================");
Console.WriteLine($"Key store:            {storePath} (SQLite)");
Console.WriteLine($"Development root key: {rootKeyPath}{(rootKeyExisted ? " (from an earlier run)" : " (created on this first run; for demos only)")}");

try
{
    Directory.CreateDirectory(home);
    using var kms = KeyManagerFactory.Create(b => b
        .PersistKeysToSqlite(storePath)
        .ProtectKeysWithDevelopmentRootKey(rootKeyPath));

    // 1. An asymmetric signing key: the private key never leaves the key manager.
    Step(1, "An ECC_NIST_P256 signing key (SIGN_VERIFY)");
    var signingKey = await GetOrCreateKeyAsync(kms, SigningAlias, KeySpec.EccNistP256, KeyUsage.SignVerify, "Document signing demo key");

    // 2. Sign a document.
    Step(2, "Sign a document with ECDSA_SHA_256");
    var document = $"Purchase order 2026-0042\nSupplier: ACME GmbH\nAmount: 1,250.00 EUR\nWritten: {DateTimeOffset.UtcNow:u}\n";
    await File.WriteAllTextAsync(documentPath, document);
    var documentBytes = await File.ReadAllBytesAsync(documentPath);
    var signed = await kms.SignAsync(new SignRequest { KeyId = SigningAlias, Message = documentBytes, SigningAlgorithm = SigningAlgorithm.EcdsaSha256 });
    await File.WriteAllBytesAsync(signaturePath, signed.Signature);
    Console.WriteLine($"   Document:    {Relative(documentPath)} ({documentBytes.Length} bytes)");
    Console.WriteLine($"   Sign:        {signed.SigningAlgorithm.ToKmsName()} -> {Relative(signaturePath)} ({signed.Signature.Length}-byte DER signature)");
    var inLibrary = await kms.VerifyAsync(new VerifyRequest { KeyId = SigningAlias, Message = documentBytes, Signature = signed.Signature, SigningAlgorithm = SigningAlgorithm.EcdsaSha256 });
    Console.WriteLine($"   Verify:      SignatureValid = {inLibrary.SignatureValid} (in the key manager)");

    // 3. Anyone with the public key can verify, without the key manager.
    Step(3, "Export the public key and verify outside the library");
    var publicKey = await kms.GetPublicKeyAsync(new GetPublicKeyRequest { KeyId = SigningAlias });
    await File.WriteAllTextAsync(publicKeyPath, PemEncoding.WriteString("PUBLIC KEY", publicKey.PublicKey) + "\n");
    Console.WriteLine($"   GetPublicKey: {publicKey.KeySpec.ToKmsName()}, {publicKey.PublicKey.Length}-byte SubjectPublicKeyInfo -> {Relative(publicKeyPath)} (PEM)");
    var outside = VerifyWithDotNet(publicKeyPath, documentBytes, signed.Signature);
    Console.WriteLine($"   .NET ECDsa:  {(outside ? "verified" : "NOT verified")} (ImportSubjectPublicKeyInfo + VerifyData, SHA-256, DER signature)");
    var openSslCommand = $"openssl dgst -sha256 -verify {Relative(publicKeyPath)} -signature {Relative(signaturePath)} {Relative(documentPath)}";
    Console.WriteLine($"   Same check:  (cd {home} && {openSslCommand})");
    var openSsl = await RunOpenSslAsync(Relative(documentPath));
    Console.WriteLine($"   openssl:     {openSsl}");
    if (!outside || !inLibrary.SignatureValid)
    {
        throw new InvalidOperationException("The signature of the document did not verify.");
    }

    // 4. A changed document fails, in the library and outside it.
    Step(4, "A tampered document fails");
    var tampered = document.Replace("1,250.00 EUR", "9,250.00 EUR", StringComparison.Ordinal);
    await File.WriteAllTextAsync(tamperedPath, tampered);
    var tamperedBytes = await File.ReadAllBytesAsync(tamperedPath);
    Console.WriteLine($"   Tampered:    {Relative(tamperedPath)} (amount changed to 9,250.00 EUR), same signature");
    var tamperedInLibrary = await kms.VerifyAsync(new VerifyRequest { KeyId = SigningAlias, Message = tamperedBytes, Signature = signed.Signature, SigningAlgorithm = SigningAlgorithm.EcdsaSha256 });
    Console.WriteLine($"   Verify:      SignatureValid = {tamperedInLibrary.SignatureValid} (in the key manager)");
    var tamperedOutside = VerifyWithDotNet(publicKeyPath, tamperedBytes, signed.Signature);
    Console.WriteLine($"   .NET ECDsa:  {(tamperedOutside ? "verified" : "NOT verified")}");
    Console.WriteLine($"   openssl:     {await RunOpenSslAsync(Relative(tamperedPath))}");
    if (tamperedOutside || tamperedInLibrary.SignatureValid)
    {
        throw new InvalidOperationException("The signature verified a tampered document.");
    }

    // 5. An HMAC key: a shared-secret MAC, computed and checked only inside the key manager.
    Step(5, "An HMAC_256 key (GENERATE_VERIFY_MAC) and a MAC'd token");
    await GetOrCreateKeyAsync(kms, MacAlias, KeySpec.Hmac256, KeyUsage.GenerateVerifyMac, "Token MAC demo key");
    var token = "user=alice;role=reader;expires=2026-12-31T23:59:59Z";
    var mac = await kms.GenerateMacAsync(new GenerateMacRequest { KeyId = MacAlias, Message = Encoding.UTF8.GetBytes(token), MacAlgorithm = MacAlgorithm.HmacSha256 });
    Console.WriteLine($"   Token:       \"{token}\"");
    Console.WriteLine($"   GenerateMac: {mac.MacAlgorithm.ToKmsName()} -> {Convert.ToBase64String(mac.Mac)} ({mac.Mac.Length} bytes)");
    var valid = await kms.VerifyMacAsync(new VerifyMacRequest { KeyId = MacAlias, Message = Encoding.UTF8.GetBytes(token), Mac = mac.Mac, MacAlgorithm = MacAlgorithm.HmacSha256 });
    Console.WriteLine($"   VerifyMac:   MacValid = {valid.MacValid}");
    var forged = token.Replace("role=reader", "role=admin", StringComparison.Ordinal);
    var forgedResult = await kms.VerifyMacAsync(new VerifyMacRequest { KeyId = MacAlias, Message = Encoding.UTF8.GetBytes(forged), Mac = mac.Mac, MacAlgorithm = MacAlgorithm.HmacSha256 });
    Console.WriteLine($"   Tampered:    \"{forged}\"");
    Console.WriteLine($"   VerifyMac:   MacValid = {forgedResult.MacValid} (a wrong MAC is false, not an exception)");
    if (!valid.MacValid || forgedResult.MacValid)
    {
        throw new InvalidOperationException("VerifyMac gave the wrong answer.");
    }

    Console.WriteLine();
    Console.WriteLine($"Done. Run it again to reuse the same store and keys; delete {home} to start over.");
    return 0;
}
catch (KmsException e)
{
    Console.WriteLine();
    Console.WriteLine($"The signing sample stopped: {e.ErrorCode}: {e.Message}");
    return 1;
}

// Reuses the key behind the alias from an earlier run, or creates the key and the alias.
static async Task<KeyMetadata> GetOrCreateKeyAsync(IKeyManager kms, string alias, KeySpec spec, KeyUsage usage, string description)
{
    try
    {
        var existing = await kms.DescribeKeyAsync(alias);
        Console.WriteLine($"   Reusing key: {existing.KeyId} ({alias}), {existing.KeySpec.ToKmsName()}, created {existing.CreationDate:u} on an earlier run");
        return existing;
    }
    catch (KmsNotFoundException)
    {
        // First run on this store: no such alias yet.
    }

    var key = (await kms.CreateKeyAsync(new CreateKeyRequest { Description = description, KeySpec = spec, KeyUsage = usage })).KeyMetadata;
    await kms.CreateAliasAsync(new CreateAliasRequest { AliasName = alias, TargetKeyId = key.KeyId });
    Console.WriteLine($"   Created key: {key.KeyId}, {key.KeySpec.ToKmsName()}, {key.KeyUsage.ToKmsName()}");
    Console.WriteLine($"   Alias:       {alias} -> {key.KeyId}");
    return key;
}

// Verification as a relying party does it: only the PEM public key, no key manager.
static bool VerifyWithDotNet(string pemPath, byte[] message, byte[] derSignature)
{
    var pem = File.ReadAllText(pemPath);
    var fields = PemEncoding.Find(pem);
    using var ecdsa = ECDsa.Create();
    ecdsa.ImportSubjectPublicKeyInfo(Convert.FromBase64String(pem[fields.Base64Data]), out _);
    return ecdsa.VerifyData(message, derSignature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
}

// Runs the openssl command line in the sample's folder when it is installed.
async Task<string> RunOpenSslAsync(string documentName)
{
    var start = new ProcessStartInfo("openssl")
    {
        WorkingDirectory = home,
        RedirectStandardOutput = true,
        RedirectStandardError = true,
        UseShellExecute = false,
    };
    foreach (var argument in new[] { "dgst", "-sha256", "-verify", Relative(publicKeyPath), "-signature", Relative(signaturePath), documentName })
    {
        start.ArgumentList.Add(argument);
    }

    try
    {
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var output = ((await stdout) + (await stderr)).Trim().Split('\n')[0].Trim();
        return $"\"{output}\" (exit code {process.ExitCode}, {documentName})";
    }
    catch (Win32Exception)
    {
        return "not run: openssl is not on PATH";
    }
}

string Relative(string path) => Path.GetRelativePath(home, path);

static void Step(int number, string title)
{
    Console.WriteLine();
    Console.WriteLine($"{number}. {title}");
}
