using EnvelopeKms.Auditing;
using EnvelopeKms.Envelope;
using EnvelopeKms.EntityFrameworkCore;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace EnvelopeKms.Integrations.Tests.EntityFrameworkCore;

/// <summary>
/// Encrypted columns through EF Core against a real SQLite database: the column holds an envelope
/// bound to its table and column, the entity holds plaintext, and the KMS calls carry kms:ViaService.
/// </summary>
public sealed class EncryptedColumnTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("envelopekms-ef-").FullName;
    private readonly InMemoryAuditSink _audit = new();
    private readonly KeyManager _kms;
    private readonly EnvelopeEncryptor _envelopes;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public EncryptedColumnTests()
    {
        _kms = TestKeyManagers.InMemory(_audit);
        _envelopes = new EnvelopeEncryptor(_kms);
    }

    public void Dispose()
    {
        _envelopes.Dispose();
        _kms.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    private string ConnectionString => $"Data Source={Path.Combine(_directory, "clinic.db")}";

    private ClinicContext Context(IEnvelopeEncryptor? encryptor = null)
        => new(new DbContextOptionsBuilder<ClinicContext>()
            .UseSqlite(ConnectionString)
            .ReplaceService<IModelCacheKeyFactory, PerEncryptorModelCacheKeyFactory>()
            .Options, encryptor ?? _envelopes);

    private async Task<string> KeyAsync(string? policy = null)
    {
        var key = await _kms.CreateKeyAsync(new CreateKeyRequest { Policy = policy }, Ct);
        await _kms.CreateAliasAsync(new CreateAliasRequest { AliasName = "alias/clinic", TargetKeyId = key.KeyMetadata.KeyId }, Ct);
        return key.KeyMetadata.KeyId;
    }

    private async Task<int> SavePatientAsync()
    {
        await using var db = Context();
        await db.Database.EnsureCreatedAsync(Ct);
        var patient = new Patient { Name = "Ada", Ssn = "078-05-1120", Notes = "allergic to penicillin", Scan = [1, 2, 3, 4, 5] };
        db.Patients.Add(patient);
        await db.SaveChangesAsync(Ct);
        return patient.Id;
    }

    private byte[] RawColumn(string column, int id)
    {
        using var connection = new SqliteConnection(ConnectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {column} FROM patients WHERE Id = $id";
        command.Parameters.AddWithValue("$id", id);
        return (byte[])command.ExecuteScalar()!;
    }

    private void WriteRaw(string sql)
    {
        using var connection = new SqliteConnection(ConnectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    [Fact]
    public async Task Marked_properties_are_stored_as_envelopes_and_read_back_as_plaintext()
    {
        await KeyAsync();
        var id = await SavePatientAsync();

        var ssn = RawColumn("ssn", id);
        Assert.DoesNotContain("078-05-1120", System.Text.Encoding.UTF8.GetString(ssn), StringComparison.Ordinal);
        Assert.True(ssn.Length > "078-05-1120".Length + 28);
        Assert.DoesNotContain("penicillin", System.Text.Encoding.UTF8.GetString(RawColumn("notes", id)), StringComparison.Ordinal);
        Assert.NotEqual([1, 2, 3, 4, 5], RawColumn("scan", id));

        _envelopes.ClearCache();
        await using var db = Context();
        var patient = await db.Patients.SingleAsync(p => p.Id == id, Ct);
        Assert.Equal("Ada", patient.Name);
        Assert.Equal("078-05-1120", patient.Ssn);
        Assert.Equal("allergic to penicillin", patient.Notes);
        Assert.Equal([1, 2, 3, 4, 5], patient.Scan);
    }

    [Fact]
    public async Task The_encryption_context_names_the_table_and_the_column()
    {
        await KeyAsync();
        await SavePatientAsync();

        var contexts = _audit.Events.Where(e => e.Operation == KmsOperation.GenerateDataKey).Select(e => e.EncryptionContext!).ToList();
        Assert.Contains(contexts, c => c["table"] == "patients" && c["column"] == "ssn");
        Assert.Contains(contexts, c => c["table"] == "patients" && c["column"] == "notes");
        Assert.Contains(contexts, c => c["table"] == "patients" && c["column"] == "scan");
    }

    [Fact]
    public async Task A_ciphertext_copied_into_another_column_does_not_decrypt_there()
    {
        await KeyAsync();
        var id = await SavePatientAsync();
        WriteRaw($"UPDATE patients SET notes = ssn WHERE Id = {id}");

        _envelopes.ClearCache();
        await using var db = Context();
        await Assert.ThrowsAnyAsync<KmsException>(() => db.Patients.SingleAsync(p => p.Id == id, Ct));
    }

    [Fact]
    public async Task A_key_policy_can_allow_the_key_only_through_the_encrypted_columns()
    {
        var account = (await _kms.CreateKeyAsync(new CreateKeyRequest(), Ct)).KeyMetadata.AwsAccountId;
        var policy = $$"""
            {
              "Version": "2012-10-17",
              "Statement": [
                { "Sid": "Admin", "Effect": "Allow", "Principal": { "AWS": "arn:aws:iam::{{account}}:root" }, "Action": "kms:*", "Resource": "*" },
                { "Sid": "DataOnlyThroughEfCore", "Effect": "Deny", "Principal": "*", "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": "*",
                  "Condition": { "StringNotEquals": { "kms:ViaService": "efcore.envelopekms" } } }
              ]
            }
            """;
        await KeyAsync(policy);
        var id = await SavePatientAsync();
        var envelope = RawColumn("ssn", id);

        // Directly, with no cached data key: denied by the policy.
        using var direct = new EnvelopeEncryptor(_kms);
        var denied = await Assert.ThrowsAsync<KmsAccessDeniedException>(async () => await direct.DecryptAsync(envelope, cancellationToken: Ct));
        Assert.Contains("DataOnlyThroughEfCore", denied.Message, StringComparison.Ordinal);

        // Through EF Core with its own, empty cache: allowed.
        using var fresh = new EnvelopeEncryptor(_kms);
        await using var db = Context(fresh);
        Assert.Equal("078-05-1120", (await db.Patients.SingleAsync(p => p.Id == id, Ct)).Ssn);
    }

    [Fact]
    public async Task Null_values_stay_null_and_updates_are_encrypted_again()
    {
        await KeyAsync();
        await using (var db = Context())
        {
            await db.Database.EnsureCreatedAsync(Ct);
            db.Patients.Add(new Patient { Name = "Bob" });
            await db.SaveChangesAsync(Ct);
        }

        await using (var db = Context())
        {
            var bob = await db.Patients.SingleAsync(Ct);
            Assert.Null(bob.Ssn);
            Assert.Null(bob.Scan);
            bob.Ssn = "219-09-9999";
            await db.SaveChangesAsync(Ct);
        }

        await using (var db = Context())
        {
            Assert.Equal("219-09-9999", (await db.Patients.SingleAsync(Ct)).Ssn);
        }
    }

    [Fact]
    public async Task Unsupported_properties_are_refused_when_the_model_is_built()
    {
        await KeyAsync();
        await using var wrongType = new BadContext(new DbContextOptionsBuilder<BadContext>().UseSqlite(ConnectionString).ReplaceService<IModelCacheKeyFactory, PerEncryptorModelCacheKeyFactory>().Options, _envelopes, "count");
        Assert.Contains("Int32", Assert.Throws<InvalidOperationException>(() => wrongType.Model).Message, StringComparison.Ordinal);
        await using var keyProperty = new BadContext(new DbContextOptionsBuilder<BadContext>().UseSqlite(ConnectionString).ReplaceService<IModelCacheKeyFactory, PerEncryptorModelCacheKeyFactory>().Options, _envelopes, "key");
        Assert.Contains("part of a key", Assert.Throws<InvalidOperationException>(() => keyProperty.Model).Message, StringComparison.Ordinal);
    }

    public sealed class Patient
    {
        public int Id { get; set; }
        public required string Name { get; set; }
        [EnvelopeEncrypted]
        public string? Ssn { get; set; }
        public string? Notes { get; set; }
        [EnvelopeEncrypted(KeyId = "alias/clinic")]
        public byte[]? Scan { get; set; }
    }

    public sealed class ClinicContext(DbContextOptions<ClinicContext> options, IEnvelopeEncryptor encryptor) : DbContext(options), IHasEncryptor
    {
        public IEnvelopeEncryptor Encryptor => encryptor;

        public DbSet<Patient> Patients => Set<Patient>();

        protected override void OnModelCreating(ModelBuilder modelBuilder)
        {
            modelBuilder.Entity<Patient>(patient =>
            {
                patient.ToTable("patients");
                patient.Property(p => p.Ssn).HasColumnName("ssn");
                patient.Property(p => p.Notes).HasColumnName("notes").IsEnvelopeEncrypted();
                patient.Property(p => p.Scan).HasColumnName("scan");
            });
            modelBuilder.UseEnvelopeKmsEncryption(encryptor, "alias/clinic");
        }
    }

    public sealed class Thing
    {
        public int Id { get; set; }
        public int Count { get; set; }
    }

    public sealed class BadContext(DbContextOptions<BadContext> options, IEnvelopeEncryptor encryptor, string mark) : DbContext(options), IHasEncryptor
    {
        public IEnvelopeEncryptor Encryptor => encryptor;

        public string Mark => mark;

        protected override void OnModelCreating(ModelBuilder modelBuilder)
        {
            modelBuilder.Entity<Thing>().Property(mark == "key" ? nameof(Thing.Id) : nameof(Thing.Count)).IsEnvelopeEncrypted();
            modelBuilder.UseEnvelopeKmsEncryption(encryptor, "alias/clinic");
        }
    }

    public interface IHasEncryptor
    {
        IEnvelopeEncryptor Encryptor { get; }
    }

    /// <summary>EF caches one model per context type; these tests build one per encryptor (an application has one).</summary>
    public sealed class PerEncryptorModelCacheKeyFactory : IModelCacheKeyFactory
    {
        public object Create(DbContext context, bool designTime)
            => (context.GetType(), ((IHasEncryptor)context).Encryptor, (context as BadContext)?.Mark, designTime);
    }
}
