using System.Net;
using System.Text;
using Amazon.KeyManagementService;
using EnvelopeKms.Auditing;
using EnvelopeKms.KmsEndpoint.Tests.Infrastructure;
using Aws = Amazon.KeyManagementService.Model;
using Sdk = Amazon.KeyManagementService;

namespace EnvelopeKms.KmsEndpoint.Tests;

/// <summary>
/// What the key manager decides arrives through the endpoint as AWS would send it: typed errors with
/// their codes and statuses, pagination markers, and key policies evaluated for the access key's principal.
/// </summary>
public sealed class KeyManagerOverHttpTests : IAsyncLifetime
{
    private TwoRegionEndpoints _kms = null!;
    private AmazonKeyManagementServiceClient _client = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _kms = await TwoRegionEndpoints.StartAsync();
        _client = _kms.EastClient();
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _kms.DisposeAsync();
    }

    private static MemoryStream Bytes(string text) => new(Encoding.UTF8.GetBytes(text));

    private async Task<string> KeyAsync() => (await _client.CreateKeyAsync(new Aws.CreateKeyRequest(), Ct)).KeyMetadata.KeyId;

    private static void AssertAws(AmazonKeyManagementServiceException e, string code, HttpStatusCode status = HttpStatusCode.BadRequest)
    {
        Assert.Equal(code, e.ErrorCode);
        Assert.Equal(status, e.StatusCode);
        Assert.False(string.IsNullOrEmpty(e.RequestId));
    }

    [Fact]
    public async Task An_unknown_key_is_the_SDKs_NotFoundException_with_status_400()
    {
        var e = await Assert.ThrowsAsync<Aws.NotFoundException>(() => _client.DescribeKeyAsync("1234abcd-12ab-34cd-56ef-1234567890ab", Ct));
        AssertAws(e, "NotFoundException");
        Assert.Contains("1234abcd-12ab-34cd-56ef-1234567890ab", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_disabled_key_an_invalid_state_a_corrupt_ciphertext_and_a_taken_alias_are_the_SDKs_typed_exceptions()
    {
        var key = await KeyAsync();
        var ciphertext = (await _client.EncryptAsync(new Aws.EncryptRequest { KeyId = key, Plaintext = Bytes("x") }, Ct)).CiphertextBlob.ToArray();
        await _client.DisableKeyAsync(key, Ct);
        AssertAws(await Assert.ThrowsAsync<Aws.DisabledException>(() => _client.EncryptAsync(new Aws.EncryptRequest { KeyId = key, Plaintext = Bytes("x") }, Ct)), "DisabledException");
        await _client.ScheduleKeyDeletionAsync(key, 7, Ct);
        AssertAws(await Assert.ThrowsAsync<Aws.KMSInvalidStateException>(() => _client.EnableKeyAsync(key, Ct)), "KMSInvalidStateException");
        await _client.CancelKeyDeletionAsync(key, Ct);
        await _client.EnableKeyAsync(key, Ct);
        ciphertext[^1] ^= 1;
        AssertAws(await Assert.ThrowsAsync<Aws.InvalidCiphertextException>(() => _client.DecryptAsync(new Aws.DecryptRequest { CiphertextBlob = new MemoryStream(ciphertext) }, Ct)), "InvalidCiphertextException");
        await _client.CreateAliasAsync("alias/once", key, Ct);
        AssertAws(await Assert.ThrowsAsync<Aws.AlreadyExistsException>(() => _client.CreateAliasAsync("alias/once", key, Ct)), "AlreadyExistsException");
    }

    [Fact]
    public async Task Bad_input_is_a_ValidationException_and_an_unsupported_request_an_UnsupportedOperationException()
    {
        var unknownSpec = await Assert.ThrowsAsync<AmazonKeyManagementServiceException>(() => _client.CreateKeyAsync(new Aws.CreateKeyRequest { KeySpec = new Sdk.KeySpec("RSA_1024") }, Ct));
        AssertAws(unknownSpec, "ValidationException");
        var noKey = await Assert.ThrowsAsync<AmazonKeyManagementServiceException>(() => _client.EncryptAsync(new Aws.EncryptRequest { Plaintext = Bytes("x") }, Ct));
        AssertAws(noKey, "ValidationException");
        AssertAws(await Assert.ThrowsAsync<Aws.UnsupportedOperationException>(() => _client.CreateKeyAsync(new Aws.CreateKeyRequest { KeySpec = Sdk.KeySpec.SM2, KeyUsage = Sdk.KeyUsageType.SIGN_VERIFY }, Ct)),
            "UnsupportedOperationException");
    }

    [Fact]
    public async Task A_dry_run_is_the_SDKs_DryRunOperationException_with_status_412()
    {
        var key = await KeyAsync();
        var e = await Assert.ThrowsAsync<Aws.DryRunOperationException>(() => _client.EncryptAsync(new Aws.EncryptRequest { KeyId = key, Plaintext = Bytes("x"), DryRun = true }, Ct));
        AssertAws(e, "DryRunOperationException", HttpStatusCode.PreconditionFailed);
    }

    [Fact]
    public async Task Pages_follow_NextMarker_until_a_page_is_not_truncated_and_a_foreign_marker_is_InvalidMarkerException()
    {
        var keys = new HashSet<string>();
        for (var i = 0; i < 5; i++)
        {
            keys.Add(await KeyAsync());
        }

        var seen = new List<string>();
        string? marker = null;
        var pages = 0;
        do
        {
            var page = await _client.ListKeysAsync(new Aws.ListKeysRequest { Limit = 2, Marker = marker }, Ct);
            pages++;
            Assert.InRange(page.Keys.Count, 1, 2);
            seen.AddRange(page.Keys.Select(k => k.KeyId));
            Assert.Equal(page.NextMarker is not null, page.Truncated == true);
            marker = page.NextMarker;
        }
        while (marker is not null);
        Assert.Equal(3, pages);
        Assert.Equal(keys.Order(), seen.Order());
        AssertAws(await Assert.ThrowsAsync<Aws.InvalidMarkerException>(() => _client.ListKeysAsync(new Aws.ListKeysRequest { Marker = "not-a-marker" }, Ct)), "InvalidMarkerException");
    }

    [Fact]
    public async Task The_SDK_paginators_walk_every_page_through_the_endpoint()
    {
        var keys = new HashSet<string>();
        for (var i = 0; i < 5; i++)
        {
            var key = await KeyAsync();
            keys.Add(key);
            await _client.CreateAliasAsync($"alias/page-{i}", key, Ct);
        }

        var listed = new List<string>();
        await foreach (var entry in _client.Paginators.ListKeys(new Aws.ListKeysRequest { Limit = 2 }).Keys.WithCancellation(Ct))
        {
            listed.Add(entry.KeyId);
        }

        Assert.Equal(keys.Order(), listed.Order());
        var pages = 0;
        var aliases = new List<string>();
        await foreach (var page in _client.Paginators.ListAliases(new Aws.ListAliasesRequest { Limit = 2 }).Responses.WithCancellation(Ct))
        {
            pages++;
            aliases.AddRange(page.Aliases.Select(a => a.AliasName));
        }

        Assert.True(pages >= 3);
        Assert.Equal(5, aliases.Count(a => a.StartsWith("alias/page-", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_policy_that_allows_only_role_A_lets_role_As_access_key_encrypt_and_denies_role_Bs()
    {
        var key = await KeyAsync();
        var policy = $$"""
            {"Version":"2012-10-17","Statement":[
              {"Sid":"Admin","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::{{TwoRegionEndpoints.Account}}:root"},"Action":"kms:*","Resource":"*"},
              {"Sid":"A","Effect":"Allow","Principal":{"AWS":"{{TwoRegionEndpoints.RoleA.PrincipalArn}}"},"Action":["kms:Encrypt","kms:Decrypt"],"Resource":"*"}]}
            """;
        await _client.PutKeyPolicyAsync(key, policy, "default", Ct);

        using var roleA = _kms.AsRole(TwoRegionEndpoints.RoleAKeyId);
        using var roleB = _kms.AsRole(TwoRegionEndpoints.RoleBKeyId);
        var ciphertext = (await roleA.EncryptAsync(new Aws.EncryptRequest { KeyId = key, Plaintext = Bytes("ok") }, Ct)).CiphertextBlob;
        var denied = await Assert.ThrowsAnyAsync<AmazonKeyManagementServiceException>(() => roleB.EncryptAsync(new Aws.EncryptRequest { KeyId = key, Plaintext = Bytes("no") }, Ct));
        AssertAws(denied, "AccessDeniedException");
        await Assert.ThrowsAnyAsync<AmazonKeyManagementServiceException>(() => roleB.DecryptAsync(new Aws.DecryptRequest { CiphertextBlob = ciphertext }, Ct));
        Assert.Contains(_kms.Audit.Events, e => e.Outcome == KmsOutcome.Denied && e.Caller == TwoRegionEndpoints.RoleB.PrincipalArn);
        Assert.Contains(_kms.Audit.Events, e => e.Outcome == KmsOutcome.Success && e.EventName == "Encrypt" && e.Caller == TwoRegionEndpoints.RoleA.PrincipalArn);
    }

    [Fact]
    public async Task Policies_see_the_callers_address_and_that_the_connection_was_not_HTTPS()
    {
        var key = await KeyAsync();
        var policy = """
            {"Version":"2012-10-17","Statement":[
              {"Sid":"Admin","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::ACCOUNT:root"},"Action":"kms:*","Resource":"*"},
              {"Sid":"FromLoopback","Effect":"Allow","Principal":{"AWS":"ROLE_A"},"Action":"kms:Encrypt","Resource":"*",
               "Condition":{"IpAddress":{"aws:SourceIp":"127.0.0.0/8"}}},
              {"Sid":"FromElsewhere","Effect":"Allow","Principal":{"AWS":"ROLE_A"},"Action":"kms:GenerateDataKey","Resource":"*",
               "Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}},
              {"Sid":"TlsOnly","Effect":"Deny","Principal":"*","Action":"kms:Decrypt","Resource":"*",
               "Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}
            """.Replace("ACCOUNT", TwoRegionEndpoints.Account, StringComparison.Ordinal).Replace("ROLE_A", TwoRegionEndpoints.RoleA.PrincipalArn, StringComparison.Ordinal);
        await _client.PutKeyPolicyAsync(key, policy, "default", Ct);

        using var roleA = _kms.AsRole(TwoRegionEndpoints.RoleAKeyId);
        var ciphertext = (await roleA.EncryptAsync(new Aws.EncryptRequest { KeyId = key, Plaintext = Bytes("ok") }, Ct)).CiphertextBlob;
        AssertAws(await Assert.ThrowsAnyAsync<AmazonKeyManagementServiceException>(() => roleA.GenerateDataKeyAsync(new Aws.GenerateDataKeyRequest { KeyId = key, NumberOfBytes = 32 }, Ct)),
            "AccessDeniedException");
        AssertAws(await Assert.ThrowsAnyAsync<AmazonKeyManagementServiceException>(() => _client.DecryptAsync(new Aws.DecryptRequest { CiphertextBlob = ciphertext }, Ct)),
            "AccessDeniedException");
    }
}
