// EnvelopeKms with the AWS SDK: application code written against IAmazonKeyManagementService
// (SecretsVault.cs) runs unchanged on EnvelopeKms, in process, with no AWS account and no network.
//
//   dotnet run --project samples/EnvelopeKms.Samples.AwsSdk [folder]
//
// Keeps its keys in a SQLite database, ./.aws-sdk-sample/keys.db (or in the folder given), protected by
// a development root key file beside it.

using System.Text;
using Amazon.KeyManagementService;
using Amazon.KeyManagementService.Model;
using EnvelopeKms;
using EnvelopeKms.AwsSdk;
using VaultApp;
using Microsoft.Extensions.DependencyInjection;

const string Alias = "alias/vault";
var home = Path.GetFullPath(args.Length > 0 ? args[0] : ".aws-sdk-sample");
Directory.CreateDirectory(home);

var services = new ServiceCollection();
services.AddLogging();
// The only EnvelopeKms-specific lines: where keys live, and IAmazonKeyManagementService served by EnvelopeKms.
services.AddEnvelopeKms(kms => kms
    .PersistKeysToSqlite(Path.Combine(home, "keys.db"))
    .ProtectKeysWithDevelopmentRootKey(Path.Combine(home, "development-root.key")));
services.AddEnvelopeKmsAwsSdk();
services.AddSingleton<SecretsVault>();

await using var provider = services.BuildServiceProvider();
Console.WriteLine($"IAmazonKeyManagementService is {provider.GetRequiredService<IAmazonKeyManagementService>().GetType().Name}; keys in {home}");
var vault = provider.GetRequiredService<SecretsVault>();

Console.WriteLine("1. The vault's key, found or created by alias");
var keyId = await vault.EnsureKeyAsync(Alias);
Console.WriteLine($"   {Alias} -> {keyId}");

Console.WriteLine("2. A secret, encrypted by KMS with an encryption context");
var sealedSecret = await vault.SealSecretAsync(Alias, "db-password", "correct horse battery staple");
Console.WriteLine($"   ciphertext: {sealedSecret.Length} bytes");
Console.WriteLine($"   opened: \"{await vault.OpenSecretAsync("db-password", sealedSecret)}\"");

Console.WriteLine("3. The wrong context is refused, as on AWS KMS");
try
{
    await vault.OpenSecretAsync("api-key", sealedSecret);
}
catch (AmazonKeyManagementServiceException e)
{
    Console.WriteLine($"   {e.GetType().Name}: ErrorCode {e.ErrorCode}, HTTP {(int)e.StatusCode}");
}

Console.WriteLine("4. A document, by envelope encryption with a data key");
var document = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("quarterly report; ", 4000)));
var sealedDocument = await vault.SealDocumentAsync(Alias, document);
var opened = await vault.OpenDocumentAsync(sealedDocument);
Console.WriteLine($"   {document.Length} bytes sealed into {sealedDocument.Length}; opened intact: {opened.AsSpan().SequenceEqual(document)}");

Console.WriteLine("5. Aliases, through the SDK's paginator");
Console.WriteLine($"   {string.Join(", ", await vault.AliasesAsync())}");
Console.WriteLine("Done.");
