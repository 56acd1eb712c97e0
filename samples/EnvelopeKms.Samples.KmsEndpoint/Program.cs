// EnvelopeKms local KMS endpoint: an AWS KMS-compatible HTTP endpoint on loopback, for the AWS CLI and
// every AWS SDK.
//
//   dotnet run --project samples/EnvelopeKms.Samples.KmsEndpoint [-- --urls http://127.0.0.1:4599] [--data <folder>]
//
// Keeps its keys in a SQLite database, ./.kms-endpoint/keys.db (or in the --data folder), protected by a
// development root key file beside it. The access key comes from configuration (KmsEndpoint:AccessKeyId
// and KmsEndpoint:SecretAccessKey, for example the environment variables KmsEndpoint__AccessKeyId and
// KmsEndpoint__SecretAccessKey); without it, a demo access key is generated on the first run and kept in
// <folder>/demo-access-key (owner-only), so the next runs accept the same one. It signs in as the
// account's root principal, arn:aws:iam::111122223333:root, which the default key policy allows.
// Stop it with Ctrl+C.

using System.Security.Cryptography;
using EnvelopeKms;
using EnvelopeKms.AspNetCore.KmsEndpoint;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

const string DefaultUrl = "http://127.0.0.1:4599";
const string Account = "111122223333";
const string Region = "us-east-1";

var builder = WebApplication.CreateSlimBuilder(args);
if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["ASPNETCORE_URLS"]))
{
    builder.WebHost.UseUrls(DefaultUrl);
}

var home = Path.GetFullPath(builder.Configuration["data"] ?? ".kms-endpoint");
Directory.CreateDirectory(home);
var (accessKeyId, secretAccessKey, generated) = AccessKey(builder.Configuration, Path.Combine(home, "demo-access-key"));
var principal = CallerIdentity.AccountRoot(Account);

builder.Services.AddEnvelopeKms(kms => kms
    .PersistKeysToSqlite(Path.Combine(home, "keys.db"))
    .ProtectKeysWithDevelopmentRootKey(Path.Combine(home, "development-root.key"))
    .Configure(o =>
    {
        o.AccountId = Account;
        o.Region = Region;
    }));
builder.Services.AddEnvelopeKmsEndpoint(o =>
{
    o.AddAccessKey(accessKeyId, secretAccessKey, principal);
    o.SigningRegions.Add(Region);
});

var app = builder.Build();
app.MapEnvelopeKms();
await app.StartAsync();

var url = app.Urls.First().TrimEnd('/');
Console.WriteLine("EnvelopeKms local KMS endpoint");
Console.WriteLine("==============================");
Console.WriteLine($"Endpoint:          {url}");
Console.WriteLine($"Region:            {Region}");
Console.WriteLine($"Key store:         {Path.Combine(home, "keys.db")} (SQLite, development root key beside it)");
Console.WriteLine($"Access key id:     {accessKeyId}");
// Printing a secret is acceptable here only because this is a local demo credential the sample made for
// the person running it; a real host takes its access keys from configuration and never prints them.
Console.WriteLine($"Secret access key: {(generated ? secretAccessKey : "(from configuration)")}");
Console.WriteLine($"Principal:         {principal.PrincipalArn}");
Console.WriteLine();
Console.WriteLine("Try it with the AWS CLI:");
Console.WriteLine($"  AWS_ACCESS_KEY_ID={accessKeyId} AWS_SECRET_ACCESS_KEY={(generated ? secretAccessKey : "<secret>")} AWS_REGION={Region} \\");
Console.WriteLine($"    aws --endpoint-url {url} kms create-key --description demo");
Console.WriteLine();
Console.WriteLine("Listening. Press Ctrl+C to stop.");

await app.WaitForShutdownAsync();

static (string Id, string Secret, bool Generated) AccessKey(IConfiguration configuration, string file)
{
    if (configuration["KmsEndpoint:AccessKeyId"] is { Length: > 0 } id && configuration["KmsEndpoint:SecretAccessKey"] is { Length: > 0 } secret)
    {
        return (id, secret, false);
    }

    if (File.Exists(file) && File.ReadAllLines(file) is [var storedId, var storedSecret, ..])
    {
        return (storedId, storedSecret, true);
    }

    // AWS-shaped: a 20-character id starting with AKIA and a 40-character secret.
    const string IdAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    var newId = "AKIA" + RandomNumberGenerator.GetString(IdAlphabet, 16);
    var newSecret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(30));
    var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
    if (!OperatingSystem.IsWindows())
    {
        options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    }

    using (var stream = new FileStream(file, options))
    using (var writer = new StreamWriter(stream))
    {
        writer.WriteLine(newId);
        writer.WriteLine(newSecret);
    }

    return (newId, newSecret, true);
}
