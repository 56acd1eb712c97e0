using System.Security.Cryptography;
using System.Text;
using EnvelopeKms.Auditing;
using EnvelopeKms.Protection;
using EnvelopeKms.Storage;
using EnvelopeKms.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace EnvelopeKms.Tests.KeyManagement;

/// <summary>The default key policy, the caller of a request, and one audit event per operation without secrets.</summary>
public sealed class AuthorizationAndAuditTests
{
    private static readonly CallerIdentity Root = new(Kms.RootArn);
    private static readonly CallerIdentity Role = new(Kms.RoleArn);
    private static readonly CallerIdentity OtherAccountRoot = new(Kms.OtherAccountRootArn);

    public static TheoryData<string> Operations => OperationCatalog.OperationNames;

    public static TheoryData<string, string> OperationsAndOutsiders()
    {
        var data = new TheoryData<string, string>();
        foreach (var operation in OperationCatalog.Operations.Keys)
        {
            data.Add(operation, Kms.RoleArn);
            data.Add(operation, Kms.OtherAccountRootArn);
        }

        return data;
    }

    [Fact]
    public void The_catalog_covers_every_operation_of_the_key_manager()
    {
        var methods = typeof(IKeyManager).GetMethods()
            .Select(m => m.Name.Replace("Async", "", StringComparison.Ordinal))
            .Where(n => n is not "PurgeExpiredKeys" and not "RotateDueKeys" and not "ExpireImportedKeyMaterial");

        Assert.Equal(methods.Order(StringComparer.Ordinal), OperationCatalog.Operations.Keys.Order(StringComparer.Ordinal));
    }

    // ---------------------------------------------------------------- authorization

    [Theory]
    [MemberData(nameof(Operations))]
    public async Task The_account_root_may_run_every_operation(string operation)
    {
        using var catalog = await OperationCatalog.CreateAsync();
        await PrepareAsync(catalog, operation);

        await catalog.InvokeAsync(operation, Root);

        var audit = catalog.Kms.Audit.Events[^1];
        Assert.Equal(KmsOutcome.Success, audit.Outcome);
        Assert.Equal(Kms.RootArn, audit.Caller);
        Assert.Contains("Allowed", audit.AuthorizationSummary, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(OperationsAndOutsiders))]
    public async Task Any_other_principal_is_denied_every_operation_and_changes_nothing(string operation, string principal)
    {
        using var catalog = await OperationCatalog.CreateAsync();
        await PrepareAsync(catalog, operation);
        var caller = new CallerIdentity(principal);
        var before = await catalog.SnapshotAsync();
        var eventsBefore = catalog.Kms.Audit.Events.Count;

        var e = await Assert.ThrowsAsync<KmsAccessDeniedException>(() => catalog.InvokeAsync(operation, caller));

        Assert.Equal("AccessDeniedException", e.ErrorCode);
        Assert.Contains(principal, e.Message, StringComparison.Ordinal);
        Assert.Equal(before, await catalog.SnapshotAsync());
        var audit = Assert.Single(catalog.Kms.Audit.Events.Skip(eventsBefore));
        Assert.Equal(OperationCatalog.Operations[operation], audit.Operation);
        Assert.Equal(KmsOutcome.Denied, audit.Outcome);
        Assert.Equal("AccessDeniedException", audit.ErrorCode);
        Assert.Equal(principal, audit.Caller);
        Assert.Null(audit.KeyMaterialId);
        Assert.Contains("deny", audit.AuthorizationSummary, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("arn:aws-cn:iam::000000000000:root")]
    [InlineData("arn:aws:iam::000000000000:role/admin:root")]
    [InlineData("arn:aws:iam::000000000000:role/x::000000000000:root")]
    [InlineData("arn:aws:iam::000000000000:user/root")]
    [InlineData("arn:aws:iam::000000000000:rooted")]
    public async Task Principals_that_only_resemble_the_account_root_are_denied(string principal)
    {
        using var catalog = await OperationCatalog.CreateAsync();
        var caller = new CallerIdentity(principal);

        Assert.False(caller.IsAccountRoot && caller.Partition == "aws" && caller.AccountId == Kms.AccountId);
        await Assert.ThrowsAsync<KmsAccessDeniedException>(() => catalog.InvokeAsync("DescribeKey", caller));
        await Assert.ThrowsAsync<KmsAccessDeniedException>(() => catalog.InvokeAsync("Decrypt", caller));
        await Assert.ThrowsAsync<KmsAccessDeniedException>(() => catalog.InvokeAsync("CreateKey", caller));
    }

    [Theory]
    [InlineData("arn:aws:iam::000000000000:root", true)]
    [InlineData("arn:aws-cn:iam::111122223333:root", true)]
    [InlineData("arn:aws:iam::000000000000:role/admin:root", false)]
    [InlineData("arn:aws:iam::000000000000:user/root", false)]
    [InlineData("arn:aws:iam::000000000000:role/app", false)]
    public void Only_the_exact_root_arn_is_an_account_root(string principal, bool isRoot)
    {
        Assert.Equal(isRoot, new CallerIdentity(principal).IsAccountRoot);
    }

    [Fact]
    public async Task The_account_root_of_the_configured_partition_has_access()
    {
        using var kms = new TestKeyManager(options: new EnvelopeKmsOptions { Partition = "aws-cn" });
        var km = kms.Api();

        var key = await km.NewKeyAsync();

        Assert.Equal("arn:aws-cn:iam::000000000000:root", kms.Audit.Events[^1].Caller);
        await Assert.ThrowsAsync<KmsAccessDeniedException>(() => km.DescribeKeyAsync(new DescribeKeyRequest { Caller = Root, KeyId = key.KeyId }, Kms.Ct));
    }

    [Fact]
    public async Task A_denied_encrypt_returns_nothing_and_a_denied_disable_leaves_the_key_enabled()
    {
        using var catalog = await OperationCatalog.CreateAsync();
        var km = catalog.Api;

        await Assert.ThrowsAsync<KmsAccessDeniedException>(() => km.EncryptAsync(new EncryptRequest { Caller = Role, KeyId = catalog.Key.KeyId, Plaintext = new byte[] { 1 } }, Kms.Ct));
        await Assert.ThrowsAsync<KmsAccessDeniedException>(() => km.DisableKeyAsync(new DisableKeyRequest { Caller = Role, KeyId = catalog.Key.KeyId }, Kms.Ct));
        await Assert.ThrowsAsync<KmsAccessDeniedException>(() => km.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { Caller = OtherAccountRoot, KeyId = catalog.Key.KeyId }, Kms.Ct));

        var described = await km.DescribeAsync(catalog.Key.KeyId);
        Assert.Equal(KeyState.Enabled, described.KeyState);
        Assert.Null(described.DeletionDate);
        Assert.Equal(Kms.Utf8("catalog secret"), await km.DecryptBlobAsync(catalog.Blob, OperationCatalog.Context));
    }

    [Fact]
    public async Task A_caller_without_access_learns_nothing_about_the_key_state()
    {
        using var catalog = await OperationCatalog.CreateAsync();
        var km = catalog.Api;
        await km.DisableKeyAsync(new DisableKeyRequest { KeyId = catalog.Key.KeyId }, Kms.Ct);

        await Assert.ThrowsAsync<KmsAccessDeniedException>(() => km.EncryptAsync(new EncryptRequest { Caller = Role, KeyId = catalog.Key.KeyId, Plaintext = new byte[] { 1 } }, Kms.Ct));
        await Assert.ThrowsAsync<KmsAccessDeniedException>(() => km.CancelKeyDeletionAsync(new CancelKeyDeletionRequest { Caller = Role, KeyId = catalog.Key.KeyId }, Kms.Ct));
    }

    [Fact]
    public async Task The_caller_identity_provider_supplies_the_caller_when_the_request_names_none()
    {
        var provider = new SettableCallerProvider(Role);
        var audit = new RecordingAuditSink();
        using var manager = new KeyManager(new InMemoryKeyStore(), new StaticRootKeyProvider(new byte[32]), auditSink: audit, callerIdentityProvider: provider);
        var km = manager.Api();

        await Assert.ThrowsAsync<KmsAccessDeniedException>(() => km.NewKeyAsync());
        Assert.Equal(Kms.RoleArn, audit.Events[^1].Caller);

        var key = (await km.CreateKeyAsync(new CreateKeyRequest { Caller = Root }, Kms.Ct)).KeyMetadata;
        Assert.Equal(Kms.RootArn, audit.Events[^1].Caller);
        await Assert.ThrowsAsync<KmsAccessDeniedException>(() => km.EncryptBlobAsync(key.KeyId, [1]));
        Assert.Equal(Kms.RoleArn, audit.Events[^1].Caller);

        provider.Caller = Root;
        var blob = await km.EncryptBlobAsync(key.KeyId, [1]);
        Assert.Equal(Kms.RootArn, audit.Events[^1].Caller);
        await Assert.ThrowsAsync<KmsAccessDeniedException>(() => km.DecryptAsync(new DecryptRequest { Caller = OtherAccountRoot, CiphertextBlob = blob }, Kms.Ct));
        Assert.Equal(Kms.OtherAccountRootArn, audit.Events[^1].Caller);
    }

    [Fact]
    public async Task The_key_manager_asks_the_authorizer_with_the_operation_key_context_and_alias()
    {
        var authorizer = new RecordingAuthorizer();
        using var manager = new KeyManager(new InMemoryKeyStore(), new StaticRootKeyProvider(new byte[32]), authorizer: authorizer);
        var km = manager.Api();
        var key = await km.NewKeyAsync();
        await km.CreateAliasAsync("alias/asked", key.KeyId);
        authorizer.Requests.Clear();

        await km.EncryptAsync(new EncryptRequest { KeyId = "alias/asked", Plaintext = new byte[] { 1 }, EncryptionContext = OperationCatalog.Context }, Kms.Ct);

        var request = Assert.Single(authorizer.Requests);
        Assert.Equal(KmsOperation.Encrypt, request.Operation);
        Assert.Equal(key.KeyId, request.Key?.KeyId);
        Assert.Equal(key.Arn, request.KeyArn);
        Assert.Equal("alias/asked", request.RequestAlias);
        Assert.Equal(OperationCatalog.Context, request.EncryptionContext);
        Assert.Equal(Kms.RootArn, request.Caller.PrincipalArn);
    }

    // ---------------------------------------------------------------- audit: one event per call

    [Theory]
    [MemberData(nameof(Operations))]
    public async Task A_successful_operation_writes_exactly_one_audit_event_describing_it(string operation)
    {
        using var catalog = await OperationCatalog.CreateAsync();
        await PrepareAsync(catalog, operation);
        var eventsBefore = catalog.Kms.Audit.Events.Count;

        await catalog.InvokeAsync(operation);

        var audit = Assert.Single(catalog.Kms.Audit.Events.Skip(eventsBefore));
        Assert.Equal(OperationCatalog.Operations[operation], audit.Operation);
        Assert.Equal(KmsOutcome.Success, audit.Outcome);
        Assert.Null(audit.ErrorCode);
        Assert.Equal(Kms.RootArn, audit.Caller);
        Assert.False(string.IsNullOrWhiteSpace(audit.RequestId));
        Assert.Equal(catalog.Kms.Clock.GetUtcNow(), audit.EventTime);
        if (OperationCatalog.KeyOperations.Contains(operation))
        {
            Assert.Equal(catalog.KeyFor(operation).KeyId, audit.KeyId);
        }

        if (operation == "RotateKeyOnDemand")
        {
            // The new material, which is now current.
            var rotated = (await catalog.Api.DescribeKeyAsync(new DescribeKeyRequest { KeyId = catalog.Key.KeyId }, Kms.Ct)).KeyMetadata;
            Assert.NotEqual(catalog.Key.CurrentKeyMaterialId, rotated.CurrentKeyMaterialId);
            Assert.Equal(rotated.CurrentKeyMaterialId, audit.KeyMaterialId);
        }
        else if (OperationCatalog.CryptoOperations.Contains(operation))
        {
            Assert.Equal(catalog.Key.CurrentKeyMaterialId, audit.KeyMaterialId);
            Assert.Equal(OperationCatalog.Context, audit.EncryptionContext);
        }
        else if (operation is "GenerateMac" or "VerifyMac")
        {
            Assert.Equal(catalog.MacKey.CurrentKeyMaterialId, audit.KeyMaterialId);
            Assert.Null(audit.EncryptionContext);
        }
        else if (OperationCatalog.KemOperations.Contains(operation))
        {
            Assert.Equal(catalog.KemKey.CurrentKeyMaterialId, audit.KeyMaterialId);
            Assert.Null(audit.EncryptionContext);
        }
        else if (operation == "DeriveSharedSecret")
        {
            Assert.Equal(catalog.AgreementKey.CurrentKeyMaterialId, audit.KeyMaterialId);
            Assert.Null(audit.EncryptionContext);
        }
        else if (OperationCatalog.SigningOperations.Contains(operation))
        {
            Assert.Equal(catalog.SigningKey.CurrentKeyMaterialId, audit.KeyMaterialId);
            Assert.Null(audit.EncryptionContext);
        }
        else if (operation is "ImportKeyMaterial" or "DeleteImportedKeyMaterial")
        {
            // The imported (or deleted) material, which is the key's current one.
            Assert.Equal((await catalog.Api.DescribeAsync(catalog.KeyFor(operation).KeyId)).CurrentKeyMaterialId, audit.KeyMaterialId);
            Assert.NotNull(audit.KeyMaterialId);
        }
        else if (operation == "CreateKey")
        {
            Assert.NotNull(audit.KeyId);
            var created = await catalog.Api.DescribeAsync(audit.KeyId);
            Assert.Equal(created.CurrentKeyMaterialId, audit.KeyMaterialId);
        }
        else
        {
            Assert.Null(audit.KeyMaterialId);
        }
    }

    [Theory]
    [MemberData(nameof(Operations))]
    public async Task A_failed_operation_writes_exactly_one_audit_event_with_the_error_code(string operation)
    {
        using var catalog = await OperationCatalog.CreateAsync();
        var (call, errorCode) = catalog.Failing(operation);
        var eventsBefore = catalog.Kms.Audit.Events.Count;

        var e = await Assert.ThrowsAnyAsync<KmsException>(call);

        Assert.Equal(errorCode, e.ErrorCode);
        var audit = Assert.Single(catalog.Kms.Audit.Events.Skip(eventsBefore));
        Assert.Equal(OperationCatalog.Operations[operation], audit.Operation);
        Assert.Equal(KmsOutcome.Failure, audit.Outcome);
        Assert.Equal(errorCode, audit.ErrorCode);
        Assert.Equal(Kms.RootArn, audit.Caller);
        Assert.False(string.IsNullOrWhiteSpace(audit.RequestId));
    }

    [Fact]
    public async Task Re_encrypt_records_source_and_destination_keys()
    {
        using var catalog = await OperationCatalog.CreateAsync();

        await catalog.InvokeAsync("ReEncrypt");

        var audit = catalog.Kms.Audit.Events[^1];
        Assert.Equal(catalog.Key.KeyId, audit.KeyId);
        Assert.Equal(catalog.Other.KeyId, audit.DestinationKeyId);
        Assert.Equal(catalog.Key.CurrentKeyMaterialId, audit.KeyMaterialId);
    }

    [Fact]
    public async Task A_decrypt_failure_records_the_key_named_in_the_ciphertext_and_the_context_given()
    {
        using var catalog = await OperationCatalog.CreateAsync();
        var wrongContext = new Dictionary<string, string> { ["tenant"] = "evil" };

        await Assert.ThrowsAsync<KmsInvalidCiphertextException>(() => catalog.Api.DecryptBlobAsync(catalog.Blob, wrongContext));

        var audit = catalog.Kms.Audit.Events[^1];
        Assert.Equal(KmsOperation.Decrypt, audit.Operation);
        Assert.Equal(KmsOutcome.Failure, audit.Outcome);
        Assert.Equal("InvalidCiphertextException", audit.ErrorCode);
        Assert.Equal(catalog.Key.KeyId, audit.KeyId);
        Assert.Equal(wrongContext, audit.EncryptionContext);
    }

    [Fact]
    public async Task An_operation_through_an_alias_records_the_alias_and_the_key()
    {
        using var catalog = await OperationCatalog.CreateAsync();

        await catalog.Api.EncryptBlobAsync(OperationCatalog.Alias, [1]);

        var audit = catalog.Kms.Audit.Events[^1];
        Assert.Equal(OperationCatalog.Alias, audit.AliasName);
        Assert.Equal(catalog.Key.KeyId, audit.KeyId);
    }

    [Fact]
    public async Task Every_request_gets_its_own_request_id()
    {
        using var catalog = await OperationCatalog.CreateAsync();
        foreach (var operation in new[] { "DescribeKey", "Encrypt", "Decrypt", "ListKeys", "GenerateRandom", "Encrypt" })
        {
            await catalog.InvokeAsync(operation);
        }

        var ids = catalog.Kms.Audit.Events.Select(e => e.RequestId).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    // ---------------------------------------------------------------- audit: no secrets

    [Fact]
    public async Task No_audit_event_contains_plaintext_data_keys_random_bytes_or_key_material()
    {
        var audit = new RecordingAuditSink();
        var rootKeys = new RecordingRootKeyProvider(new StaticRootKeyProvider(RandomNumberGenerator.GetBytes(32)));
        var logs = new CapturingLoggerProvider();
        using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
        using var manager = new KeyManager(new InMemoryKeyStore(), rootKeys, auditSink: audit, loggerFactory: loggerFactory);

        var secrets = await WorkoutAsync(manager.Api());
        secrets.AddRange(rootKeys.Materials);

        Assert.True(audit.Events.Count >= 10);
        Assert.Equal(2, rootKeys.Materials.Count);
        foreach (var auditEvent in audit.Events)
        {
            AssertNoSecret(Render(auditEvent), secrets);
        }

        AssertNoSecret(string.Join('\n', logs.Entries), secrets);
    }

    [Fact]
    public async Task The_default_logger_sink_writes_one_entry_per_operation_without_secrets()
    {
        var logs = new CapturingLoggerProvider();
        using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
        using var manager = new KeyManager(new InMemoryKeyStore(), new StaticRootKeyProvider(RandomNumberGenerator.GetBytes(32)), loggerFactory: loggerFactory);
        var km = manager.Api();

        var key = await km.NewKeyAsync();
        var blob = await km.EncryptBlobAsync(key.KeyId, [1, 2], OperationCatalog.Context);
        await Assert.ThrowsAsync<KmsInvalidCiphertextException>(() => km.DecryptBlobAsync(blob));
        await Assert.ThrowsAsync<KmsAccessDeniedException>(() => km.DescribeKeyAsync(new DescribeKeyRequest { Caller = Role, KeyId = key.KeyId }, Kms.Ct));
        var secrets = await WorkoutAsync(km);

        var auditEntries = logs.Entries.Where(e => e.StartsWith("EnvelopeKms.Audit|", StringComparison.Ordinal)).ToList();
        Assert.Contains(auditEntries, e => e.Contains("Encrypt succeeded", StringComparison.Ordinal) && e.Contains(key.KeyId, StringComparison.Ordinal));
        Assert.Contains(auditEntries, e => e.Contains("Decrypt Failure with InvalidCiphertextException", StringComparison.Ordinal));
        Assert.Contains(auditEntries, e => e.Contains("DescribeKey Denied with AccessDeniedException", StringComparison.Ordinal) && e.Contains(Kms.RoleArn, StringComparison.Ordinal));
        Assert.Equal(4 + WorkoutCalls, auditEntries.Count);
        AssertNoSecret(string.Join('\n', logs.Entries), secrets);
    }

    // ---------------------------------------------------------------- audit: fail closed

    [Fact]
    public async Task When_the_audit_sink_fails_decrypt_fails_with_audit_unavailable_and_returns_no_plaintext()
    {
        var sink = new FailingAuditSink(KmsOperation.Decrypt);
        using var manager = new KeyManager(new InMemoryKeyStore(), new StaticRootKeyProvider(new byte[32]), auditSink: sink);
        var km = manager.Api();
        var key = await km.NewKeyAsync();
        var blob = await km.EncryptBlobAsync(key.KeyId, Kms.Utf8("plaintext-7f3c9a"));

        DecryptResponse? response = null;
        var e = await Assert.ThrowsAsync<KmsAuditUnavailableException>(async () => response = await km.DecryptAsync(new DecryptRequest { CiphertextBlob = blob }, Kms.Ct));

        Assert.Null(response);
        Assert.Equal("AuditUnavailableException", e.ErrorCode);
        Assert.IsType<IOException>(e.InnerException);
        Assert.DoesNotContain("plaintext-7f3c9a", e.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task When_the_audit_sink_fails_encrypt_and_generate_data_key_fail_with_audit_unavailable()
    {
        var sink = new FailingAuditSink(KmsOperation.Encrypt, KmsOperation.GenerateDataKey);
        using var manager = new KeyManager(new InMemoryKeyStore(), new StaticRootKeyProvider(new byte[32]), auditSink: sink);
        var km = manager.Api();
        var key = await km.NewKeyAsync();

        await Assert.ThrowsAsync<KmsAuditUnavailableException>(() => km.EncryptBlobAsync(key.KeyId, [1]));
        await Assert.ThrowsAsync<KmsAuditUnavailableException>(() => km.GenerateDataKeyAsync(new GenerateDataKeyRequest { KeyId = key.KeyId, KeySpec = DataKeySpec.Aes256 }, Kms.Ct));
        await Assert.ThrowsAsync<KmsAuditUnavailableException>(() => km.EncryptBlobAsync(key.KeyId, []));
    }

    // ---------------------------------------------------------------- helpers

    /// <summary>Gets the catalog's key ready for <paramref name="operation"/> where one call needs another first.</summary>
    private static async Task PrepareAsync(OperationCatalog catalog, string operation)
    {
        if (operation == "CancelKeyDeletion")
        {
            await catalog.Api.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = catalog.Key.KeyId }, Kms.Ct);
        }
    }

    /// <summary>How many key-manager calls <see cref="WorkoutAsync"/> makes.</summary>
    private const int WorkoutCalls = 16;

    /// <summary>Runs every secret-bearing operation and returns every secret the caller saw.</summary>
    private static async Task<List<byte[]>> WorkoutAsync(IKeyManager km)
    {
        var secrets = new List<byte[]>();
        var key = await km.NewKeyAsync("workout");
        var other = await km.NewKeyAsync("workout other");
        await km.CreateAliasAsync($"alias/workout-{key.KeyId}", key.KeyId);

        var plaintext = RandomNumberGenerator.GetBytes(48);
        var text = Kms.Utf8("correct horse battery staple " + Guid.NewGuid());
        secrets.Add(plaintext);
        secrets.Add(text);
        var blob = await km.EncryptBlobAsync(key.KeyId, plaintext, OperationCatalog.Context);
        var textBlob = await km.EncryptBlobAsync($"alias/workout-{key.KeyId}", text);
        Assert.Equal(plaintext, await km.DecryptBlobAsync(blob, OperationCatalog.Context));
        Assert.Equal(text, await km.DecryptBlobAsync(textBlob, keyId: key.Arn));
        await Assert.ThrowsAsync<KmsInvalidCiphertextException>(() => km.DecryptBlobAsync(blob));
        await Assert.ThrowsAsync<KmsIncorrectKeyException>(() => km.DecryptBlobAsync(blob, OperationCatalog.Context, other.KeyId));
        await Assert.ThrowsAsync<KmsAccessDeniedException>(() => km.DecryptAsync(new DecryptRequest { Caller = Role, CiphertextBlob = blob, EncryptionContext = OperationCatalog.Context }, Kms.Ct));
        var moved = await km.ReEncryptAsync(new ReEncryptRequest { CiphertextBlob = blob, SourceEncryptionContext = OperationCatalog.Context, DestinationKeyId = other.KeyId }, Kms.Ct);
        Assert.Equal(plaintext, await km.DecryptBlobAsync(moved.CiphertextBlob));

        using (var dataKey = await km.GenerateDataKeyAsync(new GenerateDataKeyRequest { KeyId = key.KeyId, KeySpec = DataKeySpec.Aes256, EncryptionContext = OperationCatalog.Context }, Kms.Ct))
        {
            secrets.Add([.. dataKey.Plaintext]);
        }

        var withoutPlaintext = await km.GenerateDataKeyWithoutPlaintextAsync(new GenerateDataKeyRequest { KeyId = key.KeyId, NumberOfBytes = 40 }, Kms.Ct);
        secrets.Add(await km.DecryptBlobAsync(withoutPlaintext.CiphertextBlob));
        using (var random = await km.GenerateRandomAsync(new GenerateRandomRequest { NumberOfBytes = 32 }, Kms.Ct))
        {
            secrets.Add([.. random.Plaintext]);
        }

        return secrets;
    }

    private static string Render(KmsAuditEvent auditEvent)
    {
        var context = auditEvent.EncryptionContext is null ? "" : string.Join(';', auditEvent.EncryptionContext.Select(p => $"{p.Key}={p.Value}"));
        return $"{auditEvent}\n{context}";
    }

    private static void AssertNoSecret(string text, IEnumerable<byte[]> secrets)
    {
        foreach (var secret in secrets)
        {
            string[] forms =
            [
                Convert.ToBase64String(secret),
                Convert.ToBase64String(secret).TrimEnd('=').Replace('+', '-').Replace('/', '_'),
                Convert.ToHexString(secret),
                Convert.ToHexStringLower(secret),
                string.Join(", ", secret),
                string.Join(",", secret),
            ];
            foreach (var form in forms)
            {
                Assert.DoesNotContain(form, text, StringComparison.Ordinal);
            }

            if (secret.All(b => b is >= 0x20 and < 0x7f))
            {
                Assert.DoesNotContain(Encoding.ASCII.GetString(secret), text, StringComparison.Ordinal);
            }
        }
    }

    private sealed class SettableCallerProvider(CallerIdentity caller) : ICallerIdentityProvider
    {
        public CallerIdentity Caller { get; set; } = caller;

        public CallerIdentity GetCurrentCaller() => Caller;
    }

    private sealed class RecordingAuthorizer : EnvelopeKms.Authorization.IKeyAuthorizer
    {
        public List<EnvelopeKms.Authorization.AuthorizationRequest> Requests { get; } = [];

        public ValueTask<EnvelopeKms.Authorization.AuthorizationDecision> AuthorizeAsync(EnvelopeKms.Authorization.AuthorizationRequest request, CancellationToken cancellationToken)
        {
            Requests.Add(request);
            return ValueTask.FromResult(new EnvelopeKms.Authorization.AuthorizationDecision(true, "test"));
        }
    }

    private sealed class FailingAuditSink(params KmsOperation[] failOn) : IKmsAuditSink
    {
        public ValueTask WriteAsync(KmsAuditEvent auditEvent, CancellationToken cancellationToken)
            => failOn.Contains(auditEvent.Operation) ? throw new IOException("The audit disk is full.") : ValueTask.CompletedTask;
    }

    /// <summary>Keeps a copy of every key material the key manager wraps, so tests can look for it.</summary>
    private sealed class RecordingRootKeyProvider(IRootKeyProvider inner) : IRootKeyProvider
    {
        public List<byte[]> Materials { get; } = [];

        public async ValueTask<RootKey> GetRootKeyAsync(string? storedParameters, CancellationToken cancellationToken)
            => new RecordingRootKey(await inner.GetRootKeyAsync(storedParameters, cancellationToken), Materials);

        private sealed class RecordingRootKey(RootKey inner, List<byte[]> materials) : RootKey
        {
            public override string KeyCheckValue => inner.KeyCheckValue;

            public override string? Parameters => inner.Parameters;

            public override byte[] Wrap(ReadOnlySpan<byte> material, ReadOnlySpan<byte> associatedData)
            {
                if (!material.IsEmpty)
                {
                    // Empty material is a record seal (a MAC of the record), not key material.
                    materials.Add(material.ToArray());
                }

                return inner.Wrap(material, associatedData);
            }

            public override int GetUnwrappedLength(ReadOnlySpan<byte> wrapped) => inner.GetUnwrappedLength(wrapped);

            public override void Unwrap(ReadOnlySpan<byte> wrapped, ReadOnlySpan<byte> associatedData, Span<byte> material)
                => inner.Unwrap(wrapped, associatedData, material);

            protected override void Dispose(bool disposing)
            {
                if (disposing)
                {
                    inner.Dispose();
                }

                base.Dispose(disposing);
            }
        }
    }

    /// <summary>Captures every log entry as "category|level|message|structured values".</summary>
    private sealed class CapturingLoggerProvider : ILoggerProvider
    {
        private readonly List<string> _entries = [];

        public IReadOnlyList<string> Entries
        {
            get
            {
                lock (_entries)
                {
                    return [.. _entries];
                }
            }
        }

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var values = state is IEnumerable<KeyValuePair<string, object?>> pairs
                    ? string.Join(';', pairs.Select(p => $"{p.Key}={Flatten(p.Value)}"))
                    : "";
                lock (owner._entries)
                {
                    owner._entries.Add($"{category}|{logLevel}|{formatter(state, exception)}|{values}|{exception}");
                }
            }

            private static string Flatten(object? value) => value switch
            {
                null => "",
                string s => s,
                IEnumerable<KeyValuePair<string, string>> dictionary => string.Join(',', dictionary.Select(p => $"{p.Key}:{p.Value}")),
                System.Collections.IEnumerable items => string.Join(',', items.Cast<object?>()),
                _ => value.ToString() ?? "",
            };
        }
    }
}
