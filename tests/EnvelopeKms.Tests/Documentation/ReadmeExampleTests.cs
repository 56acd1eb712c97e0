using System.Security.Cryptography;
using System.Text;
using EnvelopeKms;
using EnvelopeKms.Auditing;
using EnvelopeKms.Auditing.Usage;
using EnvelopeKms.Envelope;
using Microsoft.Extensions.DependencyInjection;

namespace EnvelopeKms.Tests.Documentation;

/// <summary>
/// The code examples of README.md live in the regions <c>readme-di</c>, <c>readme-console</c>,
/// <c>readme-envelope</c>, <c>readme-data-key-pair</c>, <c>readme-rotation</c>, <c>readme-byok</c> and <c>readme-usage</c> below: tests run them, another checks that README.md shows exactly this code.
/// </summary>
public sealed class ReadmeExampleTests : IDisposable
{
    private const string ThisFile = "tests/EnvelopeKms.Tests/Documentation/ReadmeExampleTests.cs";

    // Named in the README example; no other test reads or sets it.
    private const string RootKeyVariable = "ORDERS_KMS_ROOT_KEY";

    private readonly string _keyStoreDirectory = Path.Combine(Path.GetTempPath(), "envelopekms-readme-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task The_readme_example_runs_on_a_sqlite_store_and_the_registered_key_manager_sees_its_key()
    {
        var keyStorePath = Path.Combine(_keyStoreDirectory, "keys.db");
        var services = new ServiceCollection();
        Environment.SetEnvironmentVariable(RootKeyVariable, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        try
        {
            // The README shows the calls without test cancellation tokens.
#pragma warning disable xUnit1051
            #region readme-di
            services.AddEnvelopeKms(builder => builder
                .PersistKeysToSqlite(keyStorePath)
                .ProtectKeysWithRootKeyFromEnvironment("ORDERS_KMS_ROOT_KEY"));
            #endregion

            #region readme-console
            using var kms = KeyManagerFactory.Create(builder => builder
                .PersistKeysToSqlite(keyStorePath)
                .ProtectKeysWithRootKeyFromEnvironment("ORDERS_KMS_ROOT_KEY"));

            // A customer-managed key, named by an alias.
            var key = await kms.CreateKeyAsync("Orders service secrets");
            await kms.CreateAliasAsync(new CreateAliasRequest { AliasName = "alias/orders", TargetKeyId = key.KeyId });

            // Encrypt a small secret (up to 4096 bytes), bound to an encryption context.
            var context = new Dictionary<string, string> { ["tenant"] = "contoso", ["purpose"] = "db-password" };
            byte[] ciphertext = await kms.EncryptAsync("alias/orders", "correct horse battery staple"u8.ToArray(), context);

            // Decrypt: the key is read from the ciphertext; the same context must be given.
            byte[] plaintext = await kms.DecryptAsync(ciphertext, context);
            var secret = Encoding.UTF8.GetString(plaintext);
            CryptographicOperations.ZeroMemory(plaintext);

            // Envelope encryption: a data key encrypts bulk data locally; keep only its encrypted copy.
            using var dataKey = await kms.GenerateDataKeyAsync(new GenerateDataKeyRequest
            {
                KeyId = "alias/orders",
                KeySpec = DataKeySpec.Aes256,
                EncryptionContext = context,
            });
            var data = "a large document"u8.ToArray();
            var nonce = RandomNumberGenerator.GetBytes(12);
            var encryptedData = new byte[data.Length];
            var tag = new byte[16];
            using (var aes = new AesGcm(dataKey.Plaintext, tag.Length))
            {
                aes.Encrypt(nonce, data, encryptedData, tag);
            }
            // Store nonce, encryptedData, tag and dataKey.CiphertextBlob; disposing dataKey zeroes the plaintext key.
            #endregion
#pragma warning restore xUnit1051

            var ct = TestContext.Current.CancellationToken;
            Assert.Equal("correct horse battery staple", secret);
            Assert.Equal("Orders service secrets", key.Description);
            Assert.Equal(32, dataKey.Plaintext.Length);

            // The stored copy of the data key decrypts, under the same context, to the data key, which opens the data.
            using (var recoveredKey = await kms.DecryptAsync(new DecryptRequest { CiphertextBlob = dataKey.CiphertextBlob, EncryptionContext = context }, ct))
            {
                Assert.Equal(dataKey.Plaintext, recoveredKey.Plaintext);
                var opened = new byte[encryptedData.Length];
                using var aes = new AesGcm(recoveredKey.Plaintext, 16);
                aes.Decrypt(nonce, encryptedData, tag, opened);
                Assert.Equal("a large document", Encoding.UTF8.GetString(opened));
            }

            // Nothing secret reached the disk in plaintext (the database, its write-ahead log and index).
            Assert.True(File.Exists(keyStorePath));
            var stored = Directory.EnumerateFiles(_keyStoreDirectory, "*", SearchOption.AllDirectories).Select(File.ReadAllBytes).ToList();
            Assert.NotEmpty(stored);
            Assert.All(stored, bytes =>
            {
                Assert.Equal(-1, bytes.AsSpan().IndexOf("correct horse battery staple"u8));
                Assert.Equal(-1, bytes.AsSpan().IndexOf(dataKey.Plaintext));
            });

            // The key manager registered with AddEnvelopeKms opens the same store with the same root key.
            await using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
            var registered = provider.GetRequiredService<IKeyManager>();
            var described = await registered.DescribeKeyAsync("alias/orders", ct);
            Assert.Equal(key.KeyId, described.KeyId);
            var again = await registered.DecryptAsync(ciphertext, context, ct);
            Assert.Equal("correct horse battery staple", Encoding.UTF8.GetString(again));
        }
        finally
        {
            Environment.SetEnvironmentVariable(RootKeyVariable, null);
        }
    }

    [Fact]
    public async Task The_readme_envelope_example_round_trips_and_the_registered_encryptor_opens_its_envelopes()
    {
        var ct = TestContext.Current.CancellationToken;
        var services = new ServiceCollection();
        services.AddEnvelopeKms(builder => builder.UseInMemoryKeyStore());
        await using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
        var kms = provider.GetRequiredService<IKeyManager>();
        var created = await kms.CreateKeyAsync("Orders service secrets", ct);
        await kms.CreateAliasAsync(new CreateAliasRequest { AliasName = "alias/orders", TargetKeyId = created.KeyId }, ct);

#pragma warning disable xUnit1051
        #region readme-envelope
        // One encryptor per application: it holds the data-key cache. (With AddEnvelopeKms, inject IEnvelopeEncryptor.)
        using var envelopes = new EnvelopeEncryptor(kms);

        // A protector fixes the KMS key and the encryption context once.
        var orders = envelopes.CreateProtector("alias/orders", new Dictionary<string, string> { ["tenant"] = "contoso" });

        // Any size: a 16-byte token or a large document. The envelope carries the key id, the encrypted
        // data key and the context in its header; one data key serves many messages.
        byte[] document = Encoding.UTF8.GetBytes("a large document");
        byte[] envelope = orders.Encrypt(document);
        byte[] opened = orders.Decrypt(envelope);

        // The hot path: spans into buffers you own; with the data key cached, nothing is allocated.
        var buffer = new byte[orders.GetCiphertextLength(document.Length)];
        orders.TryEncrypt(document, buffer, out int written);
        var plaintext = new byte[EnvelopeEncryptor.GetPlaintextLength(buffer)];
        orders.TryDecrypt(buffer.AsSpan(0, written), plaintext, out int read);

        // Decrypting needs only the envelope (and access to its KMS key): key and context come from the header.
        byte[] again = await envelopes.DecryptAsync(envelope);
        #endregion
#pragma warning restore xUnit1051

        Assert.Equal(document, opened);
        Assert.Equal(document, plaintext);
        Assert.Equal(document, again);
        Assert.Equal(document.Length, read);
        Assert.Equal(buffer.Length, written);
        Assert.Equal(envelope.Length, written);
        Assert.NotEqual(envelope, buffer); // a new nonce for every message

        // The header names the key behind the alias and the context; another encryptor opens the envelope, and a
        // protector for another context refuses it with the one invalid-envelope error.
        Assert.NotEqual(-1, envelope.AsSpan().IndexOf(Encoding.ASCII.GetBytes(created.KeyId)));
        Assert.Equal(-1, envelope.AsSpan().IndexOf("a large document"u8));
        var registered = provider.GetRequiredService<IEnvelopeEncryptor>();
        Assert.NotSame(envelopes, registered);
        Assert.Equal(document, await registered.DecryptAsync(envelope, cancellationToken: ct));
        var otherTenant = envelopes.CreateProtector("alias/orders", new Dictionary<string, string> { ["tenant"] = "fabrikam" });
        Assert.Throws<KmsInvalidCiphertextException>(() => otherTenant.Decrypt(envelope));

        // One GenerateDataKey for both messages, one Decrypt of the data key for both openings.
        var statistics = envelopes.CacheStatistics;
        Assert.Equal(1, statistics.EncryptMisses);
        Assert.Equal(1, statistics.EncryptHits);
        Assert.Equal(1, statistics.DecryptMisses);
        Assert.Equal(2, statistics.DecryptHits);
    }

    [Fact]
    public async Task The_readme_data_key_pair_example_signs_with_a_pair_whose_stored_private_key_decrypts()
    {
        var ct = TestContext.Current.CancellationToken;
        var services = new ServiceCollection();
        services.AddEnvelopeKms(builder => builder.UseInMemoryKeyStore());
        await using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
        var kms = provider.GetRequiredService<IKeyManager>();
        var created = await kms.CreateKeyAsync("Orders service secrets", ct);
        await kms.CreateAliasAsync(new CreateAliasRequest { AliasName = "alias/orders", TargetKeyId = created.KeyId }, ct);

#pragma warning disable xUnit1051
        #region readme-data-key-pair
        // A key pair for use outside the key manager: keep the public key and the encrypted private key.
        var signingContext = new Dictionary<string, string> { ["purpose"] = "invoice-signing" };
        using var pair = await kms.GenerateDataKeyPairAsync(new GenerateDataKeyPairRequest
        {
            KeyId = "alias/orders",
            KeyPairSpec = DataKeyPairSpec.EccNistP256,
            EncryptionContext = signingContext,
        });
        using var signer = ECDsa.Create();
        signer.ImportPkcs8PrivateKey(pair.PrivateKeyPlaintext, out _);
        byte[] signature = signer.SignData("invoice 42"u8, HashAlgorithmName.SHA256);
        // Publish pair.PublicKey (a SubjectPublicKeyInfo) and store pair.PrivateKeyCiphertextBlob;
        // Decrypt it with the same context when you need to sign again. Disposing pair zeroes the private key.
        #endregion
#pragma warning restore xUnit1051

        using var verifier = ECDsa.Create();
        verifier.ImportSubjectPublicKeyInfo(pair.PublicKey, out _);
        Assert.True(verifier.VerifyData("invoice 42"u8, signature, HashAlgorithmName.SHA256));
        var stored = await kms.DecryptAsync(pair.PrivateKeyCiphertextBlob, signingContext, ct);
        Assert.Equal(pair.PrivateKeyPlaintext, stored);
        Assert.Equal(created.Arn, pair.KeyId);
    }

    [Fact]
    public async Task The_readme_byok_example_imports_material_that_encrypts_and_expires()
    {
        var ct = TestContext.Current.CancellationToken;
        var services = new ServiceCollection();
        services.AddEnvelopeKms(builder => builder.UseInMemoryKeyStore());
        await using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
        var kms = provider.GetRequiredService<IKeyManager>();
        var myAes256Key = RandomNumberGenerator.GetBytes(32);

#pragma warning disable xUnit1051
        #region readme-byok
        var key = (await kms.CreateKeyAsync(new CreateKeyRequest { Origin = KeyOrigin.External })).KeyMetadata; // PendingImport
        var p = await kms.GetParametersForImportAsync(new GetParametersForImportRequest
        {
            KeyId = key.KeyId, WrappingKeySpec = WrappingKeySpec.Rsa3072, WrappingAlgorithm = ImportWrappingAlgorithm.RsaesOaepSha256,
        });
        using var rsa = RSA.Create();
        rsa.ImportSubjectPublicKeyInfo(p.PublicKey, out _);
        await kms.ImportKeyMaterialAsync(new ImportKeyMaterialRequest
        {
            KeyId = key.KeyId, ImportToken = p.ImportToken,
            EncryptedKeyMaterial = rsa.Encrypt(myAes256Key, RSAEncryptionPadding.OaepSHA256),
            ExpirationModel = ExpirationModel.KeyMaterialExpires, ValidTo = DateTimeOffset.UtcNow.AddDays(90),
        }); // Enabled until ValidTo, then PendingImport until the same material is imported again
        #endregion
#pragma warning restore xUnit1051

        Assert.Equal(KeyState.Enabled, (await kms.DescribeKeyAsync(new DescribeKeyRequest { KeyId = key.KeyId }, ct)).KeyMetadata.KeyState);
        var blob = (await kms.EncryptAsync(new EncryptRequest { KeyId = key.KeyId, Plaintext = "byok"u8.ToArray() }, ct)).CiphertextBlob;
        Assert.Equal("byok"u8.ToArray(), await kms.DecryptAsync(blob, null, ct));
    }

    [Fact]
    public async Task The_readme_rotation_example_rotates_and_old_ciphertexts_still_decrypt()
    {
        var ct = TestContext.Current.CancellationToken;
        var services = new ServiceCollection();
        services.AddEnvelopeKms(builder => builder.UseInMemoryKeyStore());
        await using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
        var kms = provider.GetRequiredService<IKeyManager>();
        var created = await kms.CreateKeyAsync("Orders service secrets", ct);
        await kms.CreateAliasAsync(new CreateAliasRequest { AliasName = "alias/orders", TargetKeyId = created.KeyId }, ct);
        var context = new Dictionary<string, string> { ["table"] = "orders" };
        var oldBlob = (await kms.EncryptAsync(new EncryptRequest { KeyId = "alias/orders", Plaintext = "card 4111"u8.ToArray(), EncryptionContext = context }, ct)).CiphertextBlob;
        var keyId = created.KeyId;

#pragma warning disable xUnit1051
        #region readme-rotation
        // Rotate every 180 days (a due rotation is applied before the key's next use), or right now.
        await kms.EnableKeyRotationAsync(new EnableKeyRotationRequest { KeyId = keyId, RotationPeriodInDays = 180 });
        var rotated = await kms.RotateKeyOnDemandAsync(new RotateKeyOnDemandRequest { KeyId = keyId });

        // Same key id; old ciphertexts still decrypt. ReEncrypt moves one to the current material.
        var moved = await kms.ReEncryptAsync(new ReEncryptRequest
        {
            CiphertextBlob = oldBlob,
            SourceEncryptionContext = context,
            DestinationKeyId = keyId,
            DestinationEncryptionContext = context,
        });
        var versions = await kms.ListKeyRotationsAsync(new ListKeyRotationsRequest { KeyId = keyId });
        #endregion
#pragma warning restore xUnit1051

        Assert.Equal(rotated.KeyMaterialId, moved.DestinationKeyMaterialId);
        Assert.Equal(KeyRotationType.OnDemand, Assert.Single(versions.Items).RotationType);
        Assert.Equal("card 4111"u8.ToArray(), await kms.DecryptAsync(oldBlob, context, ct));
    }

    [Fact]
    public async Task The_readme_usage_example_replays_the_trail_and_reports_the_last_use_and_the_cost()
    {
        var ct = TestContext.Current.CancellationToken;
        var keyStorePath = Path.Combine(_keyStoreDirectory, "keys.db");
        var trailPath = Path.Combine(_keyStoreDirectory, "audit.jsonl");
        var now = TimeProvider.System.GetUtcNow();
        var monthStart = new DateTimeOffset(now.Year, now.Month, 1, 0, 0, 0, TimeSpan.Zero);
        Environment.SetEnvironmentVariable(RootKeyVariable, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        try
        {
            // A previous run of the application: a key, an alias, an encryption, all in the trail.
            var previousTrail = new JsonLinesAuditSink(new JsonLinesAuditSinkOptions { Path = trailPath });
            await using (previousTrail)
            {
                using var previous = KeyManagerFactory.Create(builder => builder
                    .PersistKeysToSqlite(keyStorePath)
                    .ProtectKeysWithRootKeyFromEnvironment("ORDERS_KMS_ROOT_KEY")
                    .UseAuditSink(_ => previousTrail));
                var created = await previous.CreateKeyAsync("Orders service secrets", ct);
                await previous.CreateAliasAsync(new CreateAliasRequest { AliasName = "alias/orders", TargetKeyId = created.KeyId }, ct);
                await previous.EncryptAsync("alias/orders", "x"u8.ToArray(), null, ct);
            }

#pragma warning disable xUnit1051
            #region readme-usage
            // Usage survives restarts when the meter is rebuilt from the audit trail before the key manager starts.
            var meter = new KeyUsageMeter();
            await meter.ReplayAsync(trailPath, verifyChain: true);
            await using var trail = new JsonLinesAuditSink(new JsonLinesAuditSinkOptions { Path = trailPath });
            using var kms = KeyManagerFactory.Create(builder => builder
                .PersistKeysToSqlite(keyStorePath)
                .ProtectKeysWithRootKeyFromEnvironment("ORDERS_KMS_ROOT_KEY")
                .UseAuditSink(_ => trail)
                .TrackUsage(_ => meter));

            var usage = await kms.GetKeyLastUsageAsync(new GetKeyLastUsageRequest { KeyId = "alias/orders" });
            Console.WriteLine($"{usage.LastCryptographicOperation} at {usage.LastCryptographicDate:u}");

            // What the workload would cost on AWS KMS this month (list prices; the free tier is a price-model option).
            var report = await kms.GetUsageReportAsync(new GetUsageReportRequest { From = monthStart, To = monthStart.AddMonths(1) });
            Console.WriteLine(report.ToText());
            #endregion
#pragma warning restore xUnit1051

            Assert.Equal(KmsOperation.Encrypt, usage.LastCryptographicOperation);
            Assert.True(usage.TrackingStartDate <= usage.LastCryptographicDate);
            Assert.True(report.Total > 0m);
            Assert.Contains(report.Keys, k => k.KeyId == usage.KeyId && k.Operations.Any(o => o.Operation == KmsOperation.Encrypt && o.Success == 1));
        }
        finally
        {
            Environment.SetEnvironmentVariable(RootKeyVariable, null);
        }
    }

    [Theory]
    [InlineData("readme-usage")]
    [InlineData("readme-di")]
    [InlineData("readme-console")]
    [InlineData("readme-envelope")]
    [InlineData("readme-rotation")]
    [InlineData("readme-byok")]
    [InlineData("readme-data-key-pair")]
    public void The_readme_shows_exactly_the_code_of_the_tested_region(string region)
    {
        var code = Region(region);
        Assert.True(code.Count > 2, $"The region '{region}' was not found in {ThisFile}.");

        var blocks = CSharpBlocks(RepositoryFiles.ReadText("README.md"));
        var matching = blocks.Select(block => (Block: block, Start: FindRun(block, code))).Where(m => m.Start >= 0).ToList();
        Assert.True(matching.Count == 1,
            $"README.md must show the code of region '{region}' exactly once, as one C# code block (indentation aside); "
            + $"it does {matching.Count} times. The region is:\n{string.Join('\n', code)}");

        // Lines the block shows before the region can only be using directives that this file has too.
        var (block, start) = matching[0];
        var usings = RepositoryFiles.ReadText(ThisFile).Split('\n').Where(l => l.StartsWith("using ", StringComparison.Ordinal)).ToHashSet();
        Assert.All(block.Take(start).Where(l => l.Length > 0), line => Assert.Contains(line, usings));
    }

    public void Dispose()
    {
        if (Directory.Exists(_keyStoreDirectory))
        {
            Directory.Delete(_keyStoreDirectory, recursive: true);
        }
    }

    private static IReadOnlyList<string> Region(string name)
    {
        var lines = RepositoryFiles.ReadText(ThisFile).Split('\n');
        var start = Array.FindIndex(lines, l => l.Trim() == "#region " + name);
        if (start < 0)
        {
            return [];
        }

        var end = Array.FindIndex(lines, start, l => l.Trim() == "#endregion");
        return RepositoryFiles.Dedent(lines[(start + 1)..end]);
    }

    private static List<IReadOnlyList<string>> CSharpBlocks(string markdown)
    {
        var blocks = new List<IReadOnlyList<string>>();
        var lines = markdown.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].Trim() != "```csharp")
            {
                continue;
            }

            var end = Array.FindIndex(lines, i + 1, l => l.Trim() == "```");
            Assert.True(end > i, "README.md has an unterminated C# code block.");
            blocks.Add(RepositoryFiles.Dedent(lines[(i + 1)..end]));
            i = end;
        }

        return blocks;
    }

    /// <summary>Where <paramref name="run"/> starts in <paramref name="block"/>, if it is the rest of the block (no untested code after it); -1 otherwise.</summary>
    private static int FindRun(IReadOnlyList<string> block, IReadOnlyList<string> run)
    {
        for (var start = 0; start + run.Count <= block.Count; start++)
        {
            if (block.Skip(start).Take(run.Count).SequenceEqual(run) && block.Skip(start + run.Count).All(l => l.Length == 0))
            {
                return start;
            }
        }

        return -1;
    }
}
