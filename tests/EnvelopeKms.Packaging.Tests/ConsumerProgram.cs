namespace EnvelopeKms.Packaging.Tests;

/// <summary>The Program.cs of the fresh application: what a user writes after reading the README.</summary>
public static class ConsumerProgram
{
    /// <summary>Lines the first run prints when every package works.</summary>
    public static IEnumerable<string> ExpectedLines(bool withAwsSdk)
    {
        yield return "envelope: hello from a packed package";
        yield return "kms decrypt: a small secret";
        yield return "configuration: a configuration secret";
        yield return "data protection: a protected payload (key ring encrypted with EnvelopeKms)";
        yield return "efcore: Ada's notes (column encrypted)";
        if (withAwsSdk)
        {
            yield return "aws sdk: through the AWS SDK";
        }

        yield return "packtest: OK";
    }

    /// <summary>The program; the AWS SDK part only when that package was packed.</summary>
    public static string Source(bool withAwsSdk) => Program.Replace("//AWSSDK", withAwsSdk ? AwsSdkPart : "", StringComparison.Ordinal);

    private const string AwsSdkPart = """
        // Code written against the AWS SDK's KMS client, on the same key manager.
        Amazon.KeyManagementService.IAmazonKeyManagementService aws = new EnvelopeKms.AwsSdk.EnvelopeKmsAmazonClient(kms);
        var awsEncrypted = await aws.EncryptAsync(new Amazon.KeyManagementService.Model.EncryptRequest { KeyId = Alias, Plaintext = new MemoryStream("through the AWS SDK"u8.ToArray()) });
        var awsDecrypted = await aws.DecryptAsync(new Amazon.KeyManagementService.Model.DecryptRequest { CiphertextBlob = awsEncrypted.CiphertextBlob });
        Console.WriteLine($"aws sdk: {Encoding.UTF8.GetString(awsDecrypted.Plaintext.ToArray())}");
        """;

    private const string Program = """
        // A user's application on the packed EnvelopeKms packages: DI registration with the SQLite store, a key
        // with an alias, envelope encryption, encrypted configuration, Data Protection and EF Core columns.
        using System.Text;
        using EnvelopeKms;
        using EnvelopeKms.AspNetCore.DataProtection;
        using EnvelopeKms.Envelope;
        using EnvelopeKms.EntityFrameworkCore;
        using EnvelopeKms.Extensions.Configuration;
        using Microsoft.AspNetCore.DataProtection;
        using Microsoft.Data.Sqlite;
        using Microsoft.EntityFrameworkCore;
        using Microsoft.Extensions.Configuration;
        using Microsoft.Extensions.DependencyInjection;

        const string Alias = "alias/packtest";
        var home = args[0];
        var envelopePath = Path.Combine(home, "message.envelope");

        var services = new ServiceCollection();
        services.AddEnvelopeKms(kms => kms
            .PersistKeysToSqlite(Path.Combine(home, "keys.db"))
            .ProtectKeysWithRootKeyFromEnvironment("PACKTEST_ROOT_KEY"));
        services.AddDataProtection()
            .SetApplicationName("packtest")
            .PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(home, "dp-keys")))
            .ProtectKeysWithEnvelopeKms(Alias);
        await using var provider = services.BuildServiceProvider();
        var kms = provider.GetRequiredService<IKeyManager>();
        var envelopes = provider.GetRequiredService<IEnvelopeEncryptor>();
        var context = new Dictionary<string, string> { ["app"] = "packtest" };

        if (File.Exists(envelopePath))
        {
            // A second process on the same store: the key is there, and the first run's envelope opens.
            var opened = await envelopes.DecryptAsync(await File.ReadAllBytesAsync(envelopePath));
            Console.WriteLine($"second run: decrypted the first run's envelope: {Encoding.UTF8.GetString(opened)}");
            return 0;
        }

        var key = await kms.CreateKeyAsync("Packaging test key");
        await kms.CreateAliasAsync(new CreateAliasRequest { AliasName = Alias, TargetKeyId = key.KeyId });
        Console.WriteLine($"created key {key.KeyId} ({Alias})");

        // Envelope encryption of a message of any size.
        var protector = envelopes.CreateProtector(Alias, context);
        var envelope = protector.Encrypt("hello from a packed package"u8.ToArray());
        await File.WriteAllBytesAsync(envelopePath, envelope);
        Console.WriteLine($"envelope: {Encoding.UTF8.GetString(protector.Decrypt(envelope))}");

        // KMS Encrypt/Decrypt of a small secret.
        var ciphertext = await kms.EncryptAsync(Alias, "a small secret"u8.ToArray(), context);
        Console.WriteLine($"kms decrypt: {Encoding.UTF8.GetString(await kms.DecryptAsync(ciphertext, context))}");

        // Encrypted configuration values.
        var value = await EnvelopeKmsConfigurationValues.EncryptAsync(kms, Alias, "Secrets:Greeting", "a configuration secret");
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Secrets:Greeting"] = value })
            .AddEnvelopeKmsDecryption(kms)
            .Build();
        Console.WriteLine($"configuration: {configuration["Secrets:Greeting"]}");

        // Data Protection with its key ring encrypted at rest by the KMS key.
        var dataProtection = provider.GetRequiredService<IDataProtectionProvider>().CreateProtector("packtest");
        var payload = dataProtection.Unprotect(dataProtection.Protect("a protected payload"));
        var ring = string.Concat(Directory.GetFiles(Path.Combine(home, "dp-keys"), "*.xml").Select(File.ReadAllText));
        if (!ring.Contains("encryptedKey", StringComparison.Ordinal) || ring.Contains("<masterKey", StringComparison.Ordinal) && !ring.Contains("encryptedSecret", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("The Data Protection key ring is not encrypted with EnvelopeKms: " + ring);
        }

        Console.WriteLine($"data protection: {payload} (key ring encrypted with EnvelopeKms)");

        // EF Core: a column stored envelope-encrypted in a real SQLite database.
        var database = $"Data Source={Path.Combine(home, "clinic.db")}";
        var options = new DbContextOptionsBuilder<ClinicContext>().UseSqlite(database).Options;
        await using (var db = new ClinicContext(options, envelopes))
        {
            await db.Database.EnsureCreatedAsync();
            db.Patients.Add(new Patient { Name = "Ada", Notes = "Ada's notes" });
            await db.SaveChangesAsync();
        }

        string notes;
        await using (var db = new ClinicContext(options, envelopes))
        {
            notes = (await db.Patients.SingleAsync()).Notes;
        }

        await using (var connection = new SqliteConnection(database))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT Notes FROM Patients";
            var stored = await command.ExecuteScalarAsync();
            var text = stored is byte[] bytes ? Encoding.UTF8.GetString(bytes) : Convert.ToString(stored, System.Globalization.CultureInfo.InvariantCulture) ?? "";
            if (text.Contains("Ada's notes", StringComparison.Ordinal))
            {
                throw new InvalidOperationException("The Notes column holds plaintext.");
            }
        }

        SqliteConnection.ClearAllPools();
        Console.WriteLine($"efcore: {notes} (column encrypted)");

        //AWSSDK

        Console.WriteLine("packtest: OK");
        return 0;

        sealed class Patient
        {
            public int Id { get; set; }

            public string Name { get; set; } = "";

            [EnvelopeEncrypted]
            public string Notes { get; set; } = "";
        }

        sealed class ClinicContext(DbContextOptions<ClinicContext> options, IEnvelopeEncryptor encryptor) : DbContext(options)
        {
            public DbSet<Patient> Patients => Set<Patient>();

            protected override void OnModelCreating(ModelBuilder modelBuilder) => modelBuilder.UseEnvelopeKmsEncryption(encryptor, "alias/packtest");
        }
        """;
}
