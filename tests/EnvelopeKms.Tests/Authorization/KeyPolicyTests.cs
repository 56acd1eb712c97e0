using EnvelopeKms.Auditing;
using EnvelopeKms.Authorization;
using EnvelopeKms.Authorization.Policies;
using EnvelopeKms.Tests.Infrastructure;
using EnvelopeKms.Tests.KeyManagement;
using static EnvelopeKms.Tests.Authorization.Principals;

namespace EnvelopeKms.Tests.Authorization;

/// <summary>Key policies through the key manager: storage, evaluation, the lockout check and explanations.</summary>
public sealed class KeyPolicyTests
{
    [Fact]
    public async Task A_key_created_without_a_policy_has_the_default_key_policy_named_default()
    {
        using var kms = new TestKeyManager();
        var key = await kms.Api().NewKeyAsync();

        var policy = await kms.Api().GetKeyPolicyAsync(new GetKeyPolicyRequest { KeyId = key.KeyId }, Kms.Ct);
        var names = await kms.Api().ListKeyPoliciesAsync(new ListKeyPoliciesRequest { KeyId = key.KeyId }, Kms.Ct);

        Assert.Equal("default", policy.PolicyName);
        Assert.Equal(KeyManager.DefaultKeyPolicy(Kms.AccountId), policy.Policy);
        Assert.Contains("\"arn:aws:iam::000000000000:root\"", policy.Policy, StringComparison.Ordinal);
        Assert.Equal(["default"], names.Items);
        Assert.False(names.Truncated);
    }

    [Fact]
    public async Task PutKeyPolicy_stores_the_document_verbatim_and_it_decides_at_once()
    {
        using var kms = new TestKeyManager();
        var key = await kms.Api().NewKeyAsync();
        var policy = SeedPolicy.Replace("role/admin", "root", StringComparison.Ordinal);

        await Assert.ThrowsAsync<KmsAccessDeniedException>(() => kms.Api().EncryptAsAsync(App, key.KeyId));
        await kms.Api().PutKeyPolicyAsync(new PutKeyPolicyRequest { KeyId = key.KeyId, Policy = policy }, Kms.Ct);

        Assert.Equal(policy, (await kms.Api().GetKeyPolicyAsync(new GetKeyPolicyRequest { KeyId = key.KeyId }, Kms.Ct)).Policy);
        await kms.Api().EncryptAsAsync(App, key.KeyId);
        var denied = await Assert.ThrowsAsync<KmsAccessDeniedException>(() => kms.Api().GenerateDataKeyPairWithoutPlaintextAsync(
            new GenerateDataKeyPairRequest { Caller = App, KeyId = key.KeyId, KeyPairSpec = DataKeyPairSpec.EccNistP256 }, Kms.Ct));
        Assert.Contains("kms:GenerateDataKeyPairWithoutPlaintext", denied.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{ not json", "MalformedPolicyDocumentException")]
    [InlineData("""{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"StringEqualz":{"a":"b"}}}]}""", "StringEqualz")]
    [InlineData("""{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}""", "Principal")]
    public async Task A_malformed_policy_is_refused_with_what_and_where_and_the_previous_policy_stays(string malformed, string named)
    {
        using var kms = new TestKeyManager();
        var key = await kms.Api().NewKeyAsync();
        var before = await kms.Store.GetKeyAsync(key.KeyId, Kms.Ct);

        var e = await Assert.ThrowsAsync<KmsMalformedPolicyDocumentException>(() =>
            kms.Api().PutKeyPolicyAsync(new PutKeyPolicyRequest { KeyId = key.KeyId, Policy = malformed }, Kms.Ct));

        Assert.Equal("MalformedPolicyDocumentException", e.ErrorCode);
        Assert.Contains(named == "MalformedPolicyDocumentException" ? "" : named, e.Message, StringComparison.Ordinal);
        var after = await kms.Store.GetKeyAsync(key.KeyId, Kms.Ct);
        Assert.Equal(before!.Version, after!.Version);
        Assert.Null(after.Policy);
        Assert.Equal(KmsOutcome.Failure, kms.Audit.Events[^1].Outcome);
    }

    [Fact]
    public async Task A_policy_longer_than_32_KB_is_refused_before_it_is_parsed()
    {
        using var kms = new TestKeyManager();
        var key = await kms.Api().NewKeyAsync();
        var huge = SeedPolicy.Replace("\"Sid\": \"Admin\"", $"\"Sid\": \"{new string('a', PolicyDocument.MaxLength)}\"", StringComparison.Ordinal);

        var e = await Assert.ThrowsAsync<KmsMalformedPolicyDocumentException>(() =>
            kms.Api().PutKeyPolicyAsync(new PutKeyPolicyRequest { KeyId = key.KeyId, Policy = huge }, Kms.Ct));

        Assert.Contains("32", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_lockout_check_refuses_a_policy_that_would_leave_the_caller_unable_to_change_it()
    {
        using var kms = new TestKeyManager();
        var key = await kms.Api().NewKeyAsync();

        // The seed policy names role/admin and role/app, not the root principal that calls.
        var e = await Assert.ThrowsAsync<KmsMalformedPolicyDocumentException>(() =>
            kms.Api().PutKeyPolicyAsync(new PutKeyPolicyRequest { KeyId = key.KeyId, Policy = SeedPolicy }, Kms.Ct));

        Assert.Contains("will not allow you to update the key policy in the future", e.Message, StringComparison.Ordinal);
        Assert.Null((await kms.Store.GetKeyAsync(key.KeyId, Kms.Ct))!.Policy);
        await Assert.ThrowsAsync<KmsMalformedPolicyDocumentException>(() => kms.Api().KeyWithPolicyAsync(SeedPolicy));
        Assert.Single(await kms.Api().AllKeyIdsAsync());
    }

    [Fact]
    public async Task The_admin_may_put_a_policy_that_keeps_the_admin_in()
    {
        using var kms = new TestKeyManager();
        var key = await kms.Api().KeyWithPolicyAsync(SeedPolicy, bypass: true);

        await kms.Api().PutKeyPolicyAsync(new PutKeyPolicyRequest { Caller = Admin, KeyId = key.KeyId, Policy = SeedPolicy.Replace("kms:GenerateDataKey\"", "kms:Decrypt\"", StringComparison.Ordinal) }, Kms.Ct);

        var e = await Assert.ThrowsAsync<KmsMalformedPolicyDocumentException>(() => kms.Api().PutKeyPolicyAsync(
            new PutKeyPolicyRequest { Caller = Admin, KeyId = key.KeyId, Policy = SeedPolicy.Replace("\"kms:*\"", "\"kms:Describe*\"", StringComparison.Ordinal) }, Kms.Ct));
        Assert.Contains("role/admin", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_the_bypass_flag_a_lockout_policy_is_stored_and_the_audit_event_says_so()
    {
        using var kms = new TestKeyManager();
        var key = await kms.Api().NewKeyAsync();

        await kms.Api().PutKeyPolicyAsync(new PutKeyPolicyRequest { KeyId = key.KeyId, Policy = SeedPolicy, BypassPolicyLockoutSafetyCheck = true }, Kms.Ct);

        var audit = kms.Audit.Events[^1];
        Assert.Equal(KmsOperation.PutKeyPolicy, audit.Operation);
        Assert.Equal(KmsOutcome.Success, audit.Outcome);
        Assert.Contains("BypassPolicyLockoutSafetyCheck", audit.AuthorizationSummary, StringComparison.Ordinal);

        // The root principal is now locked out of the key, as it was warned.
        await Assert.ThrowsAsync<KmsAccessDeniedException>(() => kms.Api().PutKeyPolicyAsync(new PutKeyPolicyRequest { KeyId = key.KeyId, Policy = KeyManager.DefaultKeyPolicy(Kms.AccountId) }, Kms.Ct));
        var restored = SeedPolicy.Replace("\"arn:aws:iam::000000000000:role/admin\"", "[\"arn:aws:iam::000000000000:role/admin\", \"arn:aws:iam::000000000000:root\"]", StringComparison.Ordinal);
        await kms.Api().PutKeyPolicyAsync(new PutKeyPolicyRequest { Caller = Admin, KeyId = key.KeyId, Policy = restored }, Kms.Ct);
        await kms.Api().PutKeyPolicyAsync(new PutKeyPolicyRequest { KeyId = key.KeyId, Policy = restored }, Kms.Ct);
    }

    [Fact]
    public async Task The_seed_policy_lets_the_app_encrypt_but_not_decrypt_and_the_denial_says_why()
    {
        using var kms = new TestKeyManager();
        var key = await kms.Api().KeyWithPolicyAsync(SeedPolicy, bypass: true);
        var blob = (await kms.Api().EncryptAsAsync(App, key.KeyId)).CiphertextBlob;

        var e = await Assert.ThrowsAsync<KmsAccessDeniedException>(() => kms.Api().DecryptAsAsync(App, blob));
        await kms.Api().DecryptAsAsync(Admin, blob);

        Assert.Contains("arn:aws:iam::000000000000:role/app is not authorized to perform: kms:Decrypt", e.Message, StringComparison.Ordinal);
        Assert.Contains("Implicit deny", e.Message, StringComparison.Ordinal);
        var denial = kms.Audit.Events.Single(a => a.Outcome == KmsOutcome.Denied);
        Assert.Equal(App.PrincipalArn, denial.Caller);
        Assert.Contains("Implicit deny", denial.AuthorizationSummary, StringComparison.Ordinal);
        Assert.Contains("'App'", kms.Audit.Events.First(a => a.Operation == KmsOperation.Encrypt).AuthorizationSummary, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_explicit_deny_wins_over_an_allow_in_the_same_policy()
    {
        using var kms = new TestKeyManager();
        var key = await kms.Api().KeyWithPolicyAsync("""
            {"Version":"2012-10-17","Statement":[
              {"Sid":"All","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::000000000000:root","arn:aws:iam::000000000000:role/app"]},"Action":"kms:*","Resource":"*"},
              {"Sid":"NoDecryptForApp","Effect":"Deny","Principal":{"AWS":"arn:aws:iam::000000000000:role/app"},"Action":"kms:Decrypt","Resource":"*"}]}
            """);
        var blob = (await kms.Api().EncryptAsAsync(App, key.KeyId)).CiphertextBlob;

        var e = await Assert.ThrowsAsync<KmsAccessDeniedException>(() => kms.Api().DecryptAsAsync(App, blob));

        Assert.Contains("Explicit deny", e.Message, StringComparison.Ordinal);
        Assert.Contains("NoDecryptForApp", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_encryption_context_condition_allows_only_requests_with_that_context()
    {
        using var kms = new TestKeyManager();
        var key = await kms.Api().KeyWithPolicyAsync("""
            {"Version":"2012-10-17","Statement":[
              {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"kms:*","Resource":"*"},
              {"Sid":"AcmeOnly","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:role/app"},"Action":["kms:Encrypt","kms:Decrypt"],"Resource":"*",
               "Condition":{"StringEquals":{"kms:EncryptionContext:tenant":"acme"}}}]}
            """);
        var acme = new Dictionary<string, string> { ["tenant"] = "acme" };

        var blob = (await kms.Api().EncryptAsAsync(App, key.KeyId, acme)).CiphertextBlob;
        await kms.Api().DecryptAsAsync(App, blob, acme);

        await Assert.ThrowsAsync<KmsAccessDeniedException>(() => kms.Api().EncryptAsAsync(App, key.KeyId, new Dictionary<string, string> { ["tenant"] = "other" }));
        await Assert.ThrowsAsync<KmsAccessDeniedException>(() => kms.Api().EncryptAsAsync(App, key.KeyId, new Dictionary<string, string> { ["tenant"] = "ACME" }));
        var e = await Assert.ThrowsAsync<KmsAccessDeniedException>(() => kms.Api().EncryptAsAsync(App, key.KeyId));
        Assert.Contains("AcmeOnly", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Caller_and_request_condition_keys_reach_the_policy()
    {
        using var kms = new TestKeyManager();
        var key = await kms.Api().KeyWithPolicyAsync("""
            {"Version":"2012-10-17","Statement":[
              {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"kms:*","Resource":"*"},
              {"Sid":"ViaTheService","Effect":"Allow","Principal":"*","Action":"kms:Encrypt","Resource":"*",
               "Condition":{"StringEquals":{"kms:ViaService":"columns.envelopekms","aws:PrincipalTag/team":"billing","kms:CallerAccount":"000000000000",
                 "kms:EncryptionAlgorithm":"SYMMETRIC_DEFAULT","kms:RequestAlias":"alias/billing"},
                 "IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}
            """);
        await kms.Api().CreateAliasAsync("alias/billing", key.KeyId);
        var billing = new CallerIdentity("arn:aws:iam::000000000000:role/billing")
        {
            ViaService = "columns.envelopekms",
            Tags = new Dictionary<string, string> { ["team"] = "billing" },
            SourceIp = System.Net.IPAddress.Parse("10.1.2.3"),
        };

        await kms.Api().EncryptAsAsync(billing, "alias/billing");

        await Assert.ThrowsAsync<KmsAccessDeniedException>(() => kms.Api().EncryptAsAsync(billing, key.KeyId));
        await Assert.ThrowsAsync<KmsAccessDeniedException>(() => kms.Api().EncryptAsAsync(billing with { ViaService = null }, "alias/billing"));
        await Assert.ThrowsAsync<KmsAccessDeniedException>(() => kms.Api().EncryptAsAsync(billing with { SourceIp = System.Net.IPAddress.Parse("192.168.0.1") }, "alias/billing"));
        await Assert.ThrowsAsync<KmsAccessDeniedException>(() => kms.Api().EncryptAsAsync(billing with { Tags = new Dictionary<string, string> { ["team"] = "ops" } }, "alias/billing"));
    }

    [Fact]
    public async Task Resource_tags_and_key_spec_condition_keys_come_from_the_key()
    {
        using var kms = new TestKeyManager();
        var policy = """
            {"Version":"2012-10-17","Statement":[
              {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"kms:*","Resource":"*"},
              {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:role/app"},"Action":"kms:DescribeKey","Resource":"*",
               "Condition":{"StringEquals":{"aws:ResourceTag/stage":"prod","kms:KeySpec":"SYMMETRIC_DEFAULT","kms:KeyOrigin":"AWS_KMS"}}}]}
            """;
        var key = await kms.Api().KeyWithPolicyAsync(policy);

        await Assert.ThrowsAsync<KmsAccessDeniedException>(() => kms.Api().DescribeKeyAsync(new DescribeKeyRequest { Caller = App, KeyId = key.KeyId }, Kms.Ct));
        await kms.Api().TagResourceAsync(new TagResourceRequest { KeyId = key.KeyId, Tags = [new KeyTag("stage", "prod")] }, Kms.Ct);
        await kms.Api().DescribeKeyAsync(new DescribeKeyRequest { Caller = App, KeyId = key.KeyId }, Kms.Ct);
    }

    [Fact]
    public async Task A_policy_changed_by_one_instance_decides_in_another_sharing_the_store_at_once()
    {
        var store = new EnvelopeKms.Storage.InMemoryKeyStore();
        using var first = new TestKeyManager(store);
        using var second = new TestKeyManager(store);
        var key = await first.Api().NewKeyAsync();
        await Assert.ThrowsAsync<KmsAccessDeniedException>(() => second.Api().EncryptAsAsync(App, key.KeyId));

        await first.Api().PutKeyPolicyAsync(new PutKeyPolicyRequest { KeyId = key.KeyId, Policy = SeedPolicy.Replace("role/admin", "root", StringComparison.Ordinal) }, Kms.Ct);

        await second.Api().EncryptAsAsync(App, key.KeyId);
    }

    [Fact]
    public async Task Simulate_explains_a_request_statement_by_statement_without_running_it()
    {
        using var kms = new TestKeyManager();
        var key = await kms.Api().KeyWithPolicyAsync(SeedPolicy.Replace("role/admin", "root", StringComparison.Ordinal));
        var eventsBefore = kms.Audit.Events.Count;

        var decrypt = await kms.Api().SimulateAuthorizationAsync(new SimulateAuthorizationRequest { KeyId = key.KeyId, Principal = App, Operation = KmsOperation.Decrypt }, Kms.Ct);
        var encrypt = await kms.Api().SimulateAuthorizationAsync(new SimulateAuthorizationRequest { KeyId = key.KeyId, Principal = App, Operation = KmsOperation.Encrypt }, Kms.Ct);

        Assert.False(decrypt.IsAllowed);
        Assert.Equal("kms:Decrypt", decrypt.Action);
        Assert.Equal(Kms.KeyArn(key.KeyId), decrypt.Resource);
        Assert.Equal(2, decrypt.KeyPolicy!.Statements.Count);
        Assert.False(decrypt.KeyPolicy.Statements[1].Matched);
        Assert.All(decrypt.KeyPolicy.Statements, s => Assert.NotEmpty(s.Reasons));
        Assert.Contains("delegates to the account", decrypt.Summary, StringComparison.Ordinal);
        Assert.True(encrypt.IsAllowed);
        Assert.Contains("App", encrypt.Summary, StringComparison.Ordinal);
        Assert.Contains("DENY kms:Decrypt", decrypt.ToString(), StringComparison.Ordinal);

        // Only the simulate calls themselves are audited.
        Assert.All(kms.Audit.Events.Skip(eventsBefore), a => Assert.Equal(KmsOperation.SimulateAuthorization, a.Operation));
        Assert.Equal(2, kms.Audit.Events.Count - eventsBefore);
    }

    [Fact]
    public async Task Simulate_can_try_a_draft_policy_before_it_is_put()
    {
        using var kms = new TestKeyManager();
        var key = await kms.Api().NewKeyAsync();
        var draft = SeedPolicy.Replace("role/admin", "root", StringComparison.Ordinal);

        var now = await kms.Api().SimulateAuthorizationAsync(new SimulateAuthorizationRequest { KeyId = key.KeyId, Principal = App, Operation = KmsOperation.Encrypt }, Kms.Ct);
        var withDraft = await kms.Api().SimulateAuthorizationAsync(new SimulateAuthorizationRequest { KeyId = key.KeyId, Principal = App, Operation = KmsOperation.Encrypt, Policy = draft }, Kms.Ct);

        Assert.False(now.IsAllowed);
        Assert.True(withDraft.IsAllowed);
        Assert.Null((await kms.Store.GetKeyAsync(key.KeyId, Kms.Ct))!.Policy);
    }

    [Fact]
    public async Task Simulate_needs_GetKeyPolicy_on_the_key()
    {
        using var kms = new TestKeyManager();
        var key = await kms.Api().KeyWithPolicyAsync(SeedPolicy.Replace("role/admin", "root", StringComparison.Ordinal));

        await Assert.ThrowsAsync<KmsAccessDeniedException>(() => kms.Api().SimulateAuthorizationAsync(
            new SimulateAuthorizationRequest { Caller = App, KeyId = key.KeyId, Principal = App, Operation = KmsOperation.Encrypt }, Kms.Ct));
    }

    [Fact]
    public async Task Bad_input_to_the_policy_operations_is_a_kms_error_that_names_it_and_changes_nothing()
    {
        using var kms = new TestKeyManager();
        var key = await kms.Api().NewKeyAsync();
        var before = (await kms.Store.GetKeyAsync(key.KeyId, Kms.Ct))!.Version;

        var noPrincipal = await Assert.ThrowsAsync<KmsValidationException>(() => kms.Api().SimulateAuthorizationAsync(new SimulateAuthorizationRequest { KeyId = key.KeyId, Principal = null!, Operation = KmsOperation.Encrypt }, Kms.Ct));
        var noPolicy = await Assert.ThrowsAsync<KmsValidationException>(() => kms.Api().PutKeyPolicyAsync(new PutKeyPolicyRequest { KeyId = key.KeyId, Policy = null! }, Kms.Ct));
        var otherName = await Assert.ThrowsAsync<KmsValidationException>(() => kms.Api().GetKeyPolicyAsync(new GetKeyPolicyRequest { KeyId = key.KeyId, PolicyName = "custom" }, Kms.Ct));
        await Assert.ThrowsAsync<KmsNotFoundException>(() => kms.Api().PutKeyPolicyAsync(new PutKeyPolicyRequest { KeyId = "alias/none", Policy = KeyManager.DefaultKeyPolicy(Kms.AccountId) }, Kms.Ct));
        await Assert.ThrowsAsync<KmsInvalidMarkerException>(() => kms.Api().ListKeyPoliciesAsync(new ListKeyPoliciesRequest { KeyId = key.KeyId, Marker = "x" }, Kms.Ct));

        Assert.Contains("Principal", noPrincipal.Message, StringComparison.Ordinal);
        Assert.Contains("Policy", noPolicy.Message, StringComparison.Ordinal);
        Assert.Contains("PolicyName", otherName.Message, StringComparison.Ordinal);
        Assert.Equal(before, (await kms.Store.GetKeyAsync(key.KeyId, Kms.Ct))!.Version);
    }

    [Fact]
    public async Task A_caller_given_null_tags_has_no_tags()
    {
        using var kms = new TestKeyManager();
        var key = await kms.Api().KeyWithPolicyAsync("""
            {"Version":"2012-10-17","Statement":[
              {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"kms:*","Resource":"*"},
              {"Effect":"Allow","Principal":"*","Action":"kms:Encrypt","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"billing"}}}]}
            """);

        var untagged = App with { Tags = null! };

        Assert.Empty(untagged.Tags);
        await Assert.ThrowsAsync<KmsAccessDeniedException>(() => kms.Api().EncryptAsAsync(untagged, key.KeyId));
    }

    [Fact]
    public async Task Identity_policies_allow_where_the_key_policy_delegates_to_the_account()
    {
        using var kms = WithIdentityPolicies(out var identities);
        var key = await kms.Api().NewKeyAsync();
        await Assert.ThrowsAsync<KmsAccessDeniedException>(() => kms.Api().EncryptAsAsync(App, key.KeyId));

        identities.Attach(App.PrincipalArn, "encrypt-only", """
            {"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Encrypt","Resource":"arn:aws:kms:local:000000000000:key/*"}]}
            """);

        var blob = (await kms.Api().EncryptAsAsync(App, key.KeyId)).CiphertextBlob;
        var e = await Assert.ThrowsAsync<KmsAccessDeniedException>(() => kms.Api().DecryptAsAsync(App, blob));
        Assert.Contains("delegates to the account", e.Message, StringComparison.Ordinal);
        Assert.True(identities.Detach(App.PrincipalArn, "encrypt-only"));
        await Assert.ThrowsAsync<KmsAccessDeniedException>(() => kms.Api().EncryptAsAsync(App, key.KeyId));
    }

    [Fact]
    public async Task A_deny_in_an_identity_policy_wins_over_an_allow_in_the_key_policy()
    {
        using var kms = WithIdentityPolicies(out var identities);
        var key = await kms.Api().KeyWithPolicyAsync(SeedPolicy.Replace("role/admin", "root", StringComparison.Ordinal));
        identities.Attach(App.PrincipalArn, "no-kms", """{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"kms:*","Resource":"*"}]}""");

        var e = await Assert.ThrowsAsync<KmsAccessDeniedException>(() => kms.Api().EncryptAsAsync(App, key.KeyId));

        Assert.Contains("no-kms", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Operations_on_no_key_are_decided_by_identity_policies()
    {
        using var kms = WithIdentityPolicies(out var identities);
        await Assert.ThrowsAsync<KmsAccessDeniedException>(() => kms.Api().CreateKeyAsync(new CreateKeyRequest { Caller = Admin }, Kms.Ct));

        identities.Attach(Admin.PrincipalArn, "create", """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kms:CreateKey","kms:List*"],"Resource":"*"}]}""");

        await kms.Api().CreateKeyAsync(new CreateKeyRequest { Caller = Admin }, Kms.Ct);
        await kms.Api().ListKeysAsync(new ListKeysRequest { Caller = Admin }, Kms.Ct);
        await Assert.ThrowsAsync<KmsAccessDeniedException>(() => kms.Api().GenerateRandomAsync(new GenerateRandomRequest { Caller = Admin, NumberOfBytes = 8 }, Kms.Ct));
    }

    [Fact]
    public async Task A_caller_from_another_account_needs_both_the_key_policy_and_its_own_identity_policy()
    {
        using var kms = WithIdentityPolicies(out var identities);
        var key = await kms.Api().KeyWithPolicyAsync("""
            {"Version":"2012-10-17","Statement":[
              {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"kms:*","Resource":"*"},
              {"Sid":"Partner","Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"kms:Encrypt","Resource":"*"}]}
            """);

        await kms.Api().EncryptAsAsync(PartnerRoot, key.KeyId);
        await Assert.ThrowsAsync<KmsAccessDeniedException>(() => kms.Api().EncryptAsAsync(Partner, key.KeyId));
        identities.Attach(Partner.PrincipalArn, "use-partner-key", """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Encrypt","Resource":"*"}]}""");
        await kms.Api().EncryptAsAsync(Partner, key.KeyId);
    }

    [Fact]
    public async Task A_managed_key_refuses_PutKeyPolicy()
    {
        using var kms = new TestKeyManager();
        var managed = await kms.Manager.GetOrCreateManagedKeyAsync("policies", Kms.Ct);

        await Assert.ThrowsAsync<KmsUnsupportedOperationException>(() => kms.Api().PutKeyPolicyAsync(
            new PutKeyPolicyRequest { KeyId = managed.KeyId, Policy = KeyManager.DefaultKeyPolicy(Kms.AccountId) }, Kms.Ct));
    }
}
