using EnvelopeKms.Auditing;
using EnvelopeKms.Protection;
using EnvelopeKms.Storage;
using EnvelopeKms.Tests.Infrastructure;
using EnvelopeKms.Tests.KeyManagement;
using static EnvelopeKms.Tests.Authorization.Principals;

namespace EnvelopeKms.Tests.Authorization;

/// <summary>Grants: creation, use, constraints, tokens, listing, retiring and revoking.</summary>
public sealed class GrantTests
{
    private static readonly Dictionary<string, string> Acme = new() { ["tenant"] = "acme", ["table"] = "orders" };

    private static Task<CreateGrantResponse> GrantAsync(IKeyManager km, string keyId, CallerIdentity grantee, GrantOperation[] operations, GrantConstraints? constraints = null, string? name = null, string? retiring = null, CallerIdentity? caller = null)
        => km.CreateGrantAsync(new CreateGrantRequest { Caller = caller, KeyId = keyId, GranteePrincipal = grantee.PrincipalArn, Operations = operations, Constraints = constraints, Name = name, RetiringPrincipal = retiring }, Kms.Ct);

    [Fact]
    public async Task A_grant_lets_its_grantee_use_the_key_at_once_for_its_operations_only()
    {
        using var kms = new TestKeyManager();
        var key = await kms.Api().NewKeyAsync();
        var blob = await kms.Api().EncryptBlobAsync(key.KeyId, Kms.Utf8("secret"));
        await Assert.ThrowsAsync<KmsAccessDeniedException>(() => kms.Api().DecryptAsAsync(App, blob));

        var grant = await GrantAsync(kms.Api(), key.KeyId, App, [GrantOperation.Decrypt]);

        await kms.Api().DecryptAsAsync(App, blob);
        await Assert.ThrowsAsync<KmsAccessDeniedException>(() => kms.Api().EncryptAsAsync(App, key.KeyId));
        await Assert.ThrowsAsync<KmsAccessDeniedException>(() => kms.Api().DecryptAsAsync(Auditor, blob));
        Assert.Matches("^[0-9a-f]{64}$", grant.GrantId);
        var used = kms.Audit.Events.Last(a => a.Operation == KmsOperation.Decrypt && a.Outcome == KmsOutcome.Success);
        Assert.Contains(grant.GrantId, used.AuthorizationSummary, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_encryption_context_subset_constraint_needs_its_pairs_keys_ignoring_case_values_exactly()
    {
        using var kms = new TestKeyManager();
        var key = await kms.Api().NewKeyAsync();
        await GrantAsync(kms.Api(), key.KeyId, App, [GrantOperation.Encrypt], new GrantConstraints { EncryptionContextSubset = new Dictionary<string, string> { ["Tenant"] = "acme" } });

        await kms.Api().EncryptAsAsync(App, key.KeyId, Acme);
        await kms.Api().EncryptAsAsync(App, key.KeyId, new Dictionary<string, string> { ["tenant"] = "acme" });
        await Assert.ThrowsAsync<KmsAccessDeniedException>(() => kms.Api().EncryptAsAsync(App, key.KeyId, new Dictionary<string, string> { ["tenant"] = "ACME" }));
        await Assert.ThrowsAsync<KmsAccessDeniedException>(() => kms.Api().EncryptAsAsync(App, key.KeyId));
    }

    [Fact]
    public async Task An_encryption_context_equals_constraint_needs_exactly_its_pairs()
    {
        using var kms = new TestKeyManager();
        var key = await kms.Api().NewKeyAsync();
        await GrantAsync(kms.Api(), key.KeyId, App, [GrantOperation.Encrypt, GrantOperation.DescribeKey], new GrantConstraints { EncryptionContextEquals = new Dictionary<string, string> { ["tenant"] = "acme" } });

        await kms.Api().EncryptAsAsync(App, key.KeyId, new Dictionary<string, string> { ["TENANT"] = "acme" });
        await Assert.ThrowsAsync<KmsAccessDeniedException>(() => kms.Api().EncryptAsAsync(App, key.KeyId, Acme));

        // Constraints do not apply to DescribeKey.
        await kms.Api().DescribeKeyAsync(new DescribeKeyRequest { Caller = App, KeyId = key.KeyId }, Kms.Ct);
    }

    [Fact]
    public async Task A_grant_may_only_list_operations_the_key_supports_and_constraints_need_a_symmetric_key()
    {
        using var kms = new TestKeyManager();
        var symmetric = await kms.Api().NewKeyAsync();
        var signing = (await kms.Api().CreateKeyAsync(new CreateKeyRequest { KeySpec = KeySpec.EccNistP256, KeyUsage = KeyUsage.SignVerify }, Kms.Ct)).KeyMetadata;

        await Assert.ThrowsAsync<KmsValidationException>(() => GrantAsync(kms.Api(), symmetric.KeyId, App, [GrantOperation.Sign]));
        await Assert.ThrowsAsync<KmsValidationException>(() => GrantAsync(kms.Api(), signing.KeyId, App, [GrantOperation.GenerateDataKey]));
        await Assert.ThrowsAsync<KmsValidationException>(() => GrantAsync(kms.Api(), signing.KeyId, App, [GrantOperation.Sign], new GrantConstraints { EncryptionContextSubset = Acme }));
        await Assert.ThrowsAsync<KmsValidationException>(() => GrantAsync(kms.Api(), symmetric.KeyId, App, [GrantOperation.Encrypt], new GrantConstraints { EncryptionContextSubset = Enumerable.Range(0, 9).ToDictionary(i => $"k{i}", i => "v") }));
        await Assert.ThrowsAsync<KmsValidationException>(() => GrantAsync(kms.Api(), symmetric.KeyId, App, [GrantOperation.Encrypt], name: "white space"));
        await Assert.ThrowsAsync<KmsValidationException>(() => kms.Api().CreateGrantAsync(new CreateGrantRequest { KeyId = symmetric.KeyId, GranteePrincipal = "someone", Operations = [GrantOperation.Encrypt] }, Kms.Ct));

        var sign = await GrantAsync(kms.Api(), signing.KeyId, App, [GrantOperation.Sign, GrantOperation.GetPublicKey]);
        await kms.Api().SignAsync(new SignRequest { Caller = App, KeyId = signing.KeyId, Message = new byte[] { 1 }, SigningAlgorithm = SigningAlgorithm.EcdsaSha256 }, Kms.Ct);
        Assert.NotNull(sign.GrantToken);
    }

    [Fact]
    public async Task A_named_grant_is_created_once_and_every_token_of_it_works()
    {
        using var kms = new TestKeyManager();
        var key = await kms.Api().NewKeyAsync();

        var first = await GrantAsync(kms.Api(), key.KeyId, App, [GrantOperation.Encrypt], name: "app-encrypt");
        var again = await GrantAsync(kms.Api(), key.KeyId, App, [GrantOperation.Encrypt], name: "app-encrypt");
        var different = await GrantAsync(kms.Api(), key.KeyId, App, [GrantOperation.Encrypt, GrantOperation.Decrypt], name: "app-encrypt");

        Assert.Equal(first.GrantId, again.GrantId);
        Assert.NotEqual(first.GrantToken, again.GrantToken);
        Assert.NotEqual(first.GrantId, different.GrantId);
        var listed = await kms.Api().ListGrantsAsync(new ListGrantsRequest { KeyId = key.KeyId }, Kms.Ct);
        Assert.Equal(2, listed.Items.Count);
        await kms.Api().EncryptAsync(new EncryptRequest { Caller = App, KeyId = key.KeyId, Plaintext = new byte[] { 1 }, GrantTokens = [first.GrantToken, again.GrantToken] }, Kms.Ct);
    }

    [Fact]
    public async Task Grant_tokens_are_checked_at_most_ten_and_only_this_key_managers()
    {
        using var kms = new TestKeyManager();
        using var stranger = new TestKeyManager(rootKeyProvider: new StaticRootKeyProvider(Enumerable.Repeat((byte)7, 32).ToArray()));
        var key = await kms.Api().NewKeyAsync();
        var strangerKey = await stranger.Api().NewKeyAsync();
        var token = (await GrantAsync(kms.Api(), key.KeyId, App, [GrantOperation.Encrypt])).GrantToken;
        var foreign = (await GrantAsync(stranger.Api(), strangerKey.KeyId, App, [GrantOperation.Encrypt])).GrantToken;
        Task Encrypt(params string[] tokens) => kms.Api().EncryptAsync(new EncryptRequest { Caller = App, KeyId = key.KeyId, Plaintext = new byte[] { 1 }, GrantTokens = tokens }, Kms.Ct);

        await Encrypt(Enumerable.Repeat(token, 10).ToArray());
        await Assert.ThrowsAsync<KmsValidationException>(() => Encrypt(Enumerable.Repeat(token, 11).ToArray()));
        var forged = await Assert.ThrowsAsync<KmsInvalidGrantTokenException>(() => Encrypt(foreign));
        Assert.Equal("InvalidGrantTokenException", forged.ErrorCode);
        await Assert.ThrowsAsync<KmsInvalidGrantTokenException>(() => Encrypt("not a token"));
        var flipped = token.ToCharArray();
        flipped[^3] = flipped[^3] == 'A' ? 'B' : 'A';
        await Assert.ThrowsAsync<KmsInvalidGrantTokenException>(() => Encrypt(new string(flipped)));
    }

    [Fact]
    public async Task ListGrants_pages_in_grant_id_order_and_filters_by_grant_and_grantee()
    {
        using var kms = new TestKeyManager();
        var key = await kms.Api().NewKeyAsync();
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add((await GrantAsync(kms.Api(), key.KeyId, i < 3 ? App : Auditor, [GrantOperation.DescribeKey])).GrantId);
        }

        var pages = new List<GrantListEntry>();
        string? marker = null;
        do
        {
            var page = await kms.Api().ListGrantsAsync(new ListGrantsRequest { KeyId = key.KeyId, Limit = 2, Marker = marker }, Kms.Ct);
            Assert.True(page.Items.Count <= 2);
            pages.AddRange(page.Items);
            marker = page.NextMarker;
        }
        while (marker is not null);

        Assert.Equal(ids.Order(StringComparer.Ordinal), pages.Select(g => g.GrantId));
        Assert.All(pages, g => Assert.Equal(Kms.KeyArn(key.KeyId), g.KeyId));
        Assert.All(pages, g => Assert.Equal(Kms.RootArn, g.IssuingAccount));
        Assert.Equal(3, (await kms.Api().ListGrantsAsync(new ListGrantsRequest { KeyId = key.KeyId, GranteePrincipal = App.PrincipalArn }, Kms.Ct)).Items.Count);
        Assert.Equal(ids[4], Assert.Single((await kms.Api().ListGrantsAsync(new ListGrantsRequest { KeyId = key.KeyId, GrantId = ids[4] }, Kms.Ct)).Items).GrantId);
        await Assert.ThrowsAsync<KmsInvalidMarkerException>(() => kms.Api().ListGrantsAsync(new ListGrantsRequest { KeyId = key.KeyId, Marker = "bogus" }, Kms.Ct));
    }

    [Fact]
    public async Task ListRetirableGrants_lists_a_retiring_principals_grants_across_keys()
    {
        using var kms = new TestKeyManager();
        var one = await kms.Api().NewKeyAsync();
        var two = await kms.Api().NewKeyAsync();
        await GrantAsync(kms.Api(), one.KeyId, App, [GrantOperation.Encrypt], retiring: Auditor.PrincipalArn);
        await GrantAsync(kms.Api(), two.KeyId, App, [GrantOperation.Encrypt], retiring: Auditor.PrincipalArn);
        await GrantAsync(kms.Api(), two.KeyId, App, [GrantOperation.Decrypt]);

        var first = await kms.Api().ListRetirableGrantsAsync(new ListRetirableGrantsRequest { RetiringPrincipal = Auditor.PrincipalArn, Limit = 1 }, Kms.Ct);
        var second = await kms.Api().ListRetirableGrantsAsync(new ListRetirableGrantsRequest { RetiringPrincipal = Auditor.PrincipalArn, Limit = 1, Marker = first.NextMarker }, Kms.Ct);

        Assert.NotNull(first.NextMarker);
        Assert.Null(second.NextMarker);
        Assert.Equal(new[] { one.KeyId, two.KeyId }.Select(Kms.KeyArn).Order(StringComparer.Ordinal), first.Items.Concat(second.Items).Select(g => g.KeyId).Order(StringComparer.Ordinal));
        Assert.All(first.Items.Concat(second.Items), g => Assert.Equal(Auditor.PrincipalArn, g.RetiringPrincipal));
    }

    [Fact]
    public async Task The_retiring_principal_retires_a_grant_by_token_and_its_grantee_loses_access()
    {
        using var kms = new TestKeyManager();
        var key = await kms.Api().NewKeyAsync();
        var grant = await GrantAsync(kms.Api(), key.KeyId, App, [GrantOperation.Encrypt], retiring: Auditor.PrincipalArn);
        await kms.Api().EncryptAsAsync(App, key.KeyId);

        await kms.Api().RetireGrantAsync(new RetireGrantRequest { Caller = Auditor, GrantToken = grant.GrantToken }, Kms.Ct);

        await Assert.ThrowsAsync<KmsAccessDeniedException>(() => kms.Api().EncryptAsAsync(App, key.KeyId));
        Assert.Empty((await kms.Api().ListGrantsAsync(new ListGrantsRequest { KeyId = key.KeyId }, Kms.Ct)).Items);
        await Assert.ThrowsAsync<KmsNotFoundException>(() => kms.Api().RetireGrantAsync(new RetireGrantRequest { Caller = Auditor, GrantToken = grant.GrantToken }, Kms.Ct));
    }

    [Fact]
    public async Task A_grantee_retires_its_grant_only_when_the_grant_allows_RetireGrant()
    {
        using var kms = new TestKeyManager();
        var key = await kms.Api().NewKeyAsync();
        var plain = await GrantAsync(kms.Api(), key.KeyId, App, [GrantOperation.Encrypt]);
        var retirable = await GrantAsync(kms.Api(), key.KeyId, App, [GrantOperation.Encrypt, GrantOperation.RetireGrant]);

        await Assert.ThrowsAsync<KmsAccessDeniedException>(() => kms.Api().RetireGrantAsync(new RetireGrantRequest { Caller = App, KeyId = key.KeyId, GrantId = plain.GrantId }, Kms.Ct));
        await kms.Api().RetireGrantAsync(new RetireGrantRequest { Caller = App, KeyId = Kms.KeyArn(key.KeyId), GrantId = retirable.GrantId }, Kms.Ct);
        await kms.Api().RetireGrantAsync(new RetireGrantRequest { KeyId = key.KeyId, GrantId = plain.GrantId }, Kms.Ct);

        Assert.Empty((await kms.Api().ListGrantsAsync(new ListGrantsRequest { KeyId = key.KeyId }, Kms.Ct)).Items);
        await Assert.ThrowsAsync<KmsValidationException>(() => kms.Api().RetireGrantAsync(new RetireGrantRequest { KeyId = key.KeyId }, Kms.Ct));
    }

    [Fact]
    public async Task RevokeGrant_needs_kms_RevokeGrant_and_removes_the_grant()
    {
        using var kms = new TestKeyManager();
        var key = await kms.Api().NewKeyAsync();
        var grant = await GrantAsync(kms.Api(), key.KeyId, App, [GrantOperation.Encrypt, GrantOperation.RetireGrant]);

        await Assert.ThrowsAsync<KmsAccessDeniedException>(() => kms.Api().RevokeGrantAsync(new RevokeGrantRequest { Caller = App, KeyId = key.KeyId, GrantId = grant.GrantId }, Kms.Ct));
        await kms.Api().RevokeGrantAsync(new RevokeGrantRequest { KeyId = key.KeyId, GrantId = grant.GrantId }, Kms.Ct);

        await Assert.ThrowsAsync<KmsAccessDeniedException>(() => kms.Api().EncryptAsAsync(App, key.KeyId));
        await Assert.ThrowsAsync<KmsNotFoundException>(() => kms.Api().RevokeGrantAsync(new RevokeGrantRequest { KeyId = key.KeyId, GrantId = grant.GrantId }, Kms.Ct));
        await Assert.ThrowsAsync<KmsInvalidGrantIdException>(() => kms.Api().RevokeGrantAsync(new RevokeGrantRequest { KeyId = key.KeyId, GrantId = "XYZ" }, Kms.Ct));
    }

    [Fact]
    public async Task A_grantee_with_CreateGrant_may_create_narrower_grants_but_not_broader_ones()
    {
        using var kms = new TestKeyManager();
        var key = await kms.Api().NewKeyAsync();
        var subset = new Dictionary<string, string> { ["tenant"] = "acme" };
        await GrantAsync(kms.Api(), key.KeyId, App, [GrantOperation.Encrypt, GrantOperation.Decrypt, GrantOperation.CreateGrant], new GrantConstraints { EncryptionContextSubset = subset });

        await GrantAsync(kms.Api(), key.KeyId, Auditor, [GrantOperation.Decrypt], new GrantConstraints { EncryptionContextEquals = Acme }, caller: App);
        await Assert.ThrowsAsync<KmsAccessDeniedException>(() => GrantAsync(kms.Api(), key.KeyId, Auditor, [GrantOperation.Decrypt], caller: App));
        await Assert.ThrowsAsync<KmsAccessDeniedException>(() => GrantAsync(kms.Api(), key.KeyId, Auditor, [GrantOperation.GenerateDataKey], new GrantConstraints { EncryptionContextSubset = subset }, caller: App));
        await Assert.ThrowsAsync<KmsAccessDeniedException>(() => GrantAsync(kms.Api(), key.KeyId, Auditor, [GrantOperation.Decrypt], caller: Auditor));
    }

    [Fact]
    public async Task A_key_holds_at_most_50000_grants()
    {
        var store = new FullGrantStore();
        using var kms = new TestKeyManager(store);
        var key = await kms.Api().NewKeyAsync();
        store.Reported = KeyManager.MaxGrantsPerKey;

        var e = await Assert.ThrowsAsync<KmsLimitExceededException>(() => GrantAsync(kms.Api(), key.KeyId, App, [GrantOperation.Encrypt]));

        Assert.Contains("50000", e.Message, StringComparison.Ordinal);
        store.Reported = KeyManager.MaxGrantsPerKey - 1;
        await GrantAsync(kms.Api(), key.KeyId, App, [GrantOperation.Encrypt]);
    }

    [Fact]
    public async Task Purging_a_key_deletes_its_grants()
    {
        using var kms = new TestKeyManager();
        var key = await kms.Api().NewKeyAsync();
        await GrantAsync(kms.Api(), key.KeyId, App, [GrantOperation.Encrypt], retiring: Auditor.PrincipalArn);
        await kms.Api().ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = key.KeyId, PendingWindowInDays = 7 }, Kms.Ct);
        kms.Clock.Advance(TimeSpan.FromDays(8));

        Assert.Equal(1, await kms.Api().PurgeExpiredKeysAsync(Kms.Ct));

        Assert.Equal(0, await ((IGrantStore)kms.Store).CountGrantsAsync(key.KeyId, Kms.Ct));
        Assert.Empty((await kms.Api().ListRetirableGrantsAsync(new ListRetirableGrantsRequest { RetiringPrincipal = Auditor.PrincipalArn }, Kms.Ct)).Items);
    }

    [Fact]
    public async Task A_grant_written_into_the_store_by_hand_is_rejected_not_honoured()
    {
        using var kms = new TestKeyManager();
        var key = await kms.Api().NewKeyAsync();
        await ((IGrantStore)kms.Store).InsertGrantAsync(new GrantRecord
        {
            KeyId = key.KeyId,
            GrantId = new string('a', 64),
            GranteePrincipal = App.PrincipalArn,
            IssuingAccount = Kms.RootArn,
            Operations = ["Encrypt"],
            CreationDate = kms.Clock.GetUtcNow(),
        }, Kms.Ct);

        await Assert.ThrowsAsync<KmsStorageIntegrityException>(() => kms.Api().EncryptAsAsync(App, key.KeyId));
        await kms.Api().EncryptAsAsync(Root, key.KeyId);
    }

    /// <summary>An in-memory store that reports a chosen grant count, to reach the per-key limit without 50,000 writes.</summary>
    private sealed class FullGrantStore() : DelegatingGrantStore(new InMemoryKeyStore())
    {
        public int Reported { get; set; }

        public override ValueTask<int> CountGrantsAsync(string keyId, CancellationToken cancellationToken) => ValueTask.FromResult(Reported);
    }
}
