using EnvelopeKms.Tests.Infrastructure;
using EnvelopeKms.Storage;

namespace EnvelopeKms.Tests.Storage;

/// <summary>
/// Grant seals through <see cref="SealingKeyStore.Grants"/>: every grant written is sealed, every grant
/// read is verified, and a grant written or changed outside EnvelopeKms is an integrity error that names
/// its key and grant id (never silently skipped).
/// </summary>
public sealed class SealingGrantStoreTests
{
    private const string KeyId = "11111111-2222-3333-4444-555555555555";
    private const string OtherKeyId = "66666666-7777-8888-9999-000000000000";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void A_store_with_grants_exposes_a_sealing_grant_store_and_one_without_exposes_none()
    {
        var sealing = StoreGrants.Sealing(new InMemoryKeyStore());
        Assert.IsType<SealingGrantStore>(sealing.Grants);
        Assert.Same(sealing.Grants, sealing.Grants);
        Assert.IsNotAssignableFrom<IGrantStore>(sealing);

        Assert.Null(StoreGrants.Sealing(new KeysOnlyStore(new InMemoryKeyStore())).Grants);
    }

    [Fact]
    public async Task An_inserted_grant_is_stored_with_a_seal_of_the_root_key_and_reads_back_through_every_method()
    {
        var inner = new InMemoryKeyStore();
        using var rootKey = StoreGrants.TestRootKey();
        var grants = StoreGrants.Sealing(inner, rootKey).Grants!;
        var grant = StoreGrants.Grant(KeyId, StoreGrants.GrantId(1));

        var inserted = await grants.InsertGrantAsync(grant, Ct);

        var stored = (await inner.GetGrantAsync(KeyId, grant.GrantId, Ct))!;
        Assert.NotNull(stored.Seal);
        Assert.True(RecordSeal.IsAuthentic(rootKey, stored));
        Assert.Equal(stored.Seal, inserted.Seal);
        Assert.Equal(grant.GrantId, (await grants.GetGrantAsync(KeyId, grant.GrantId, Ct))!.GrantId);
        Assert.Single(await grants.ListGrantsAsync(KeyId, null, 10, Ct));
        Assert.Single(await grants.ListGrantsForGranteeAsync(KeyId, grant.GranteePrincipal, Ct));
        Assert.Single(await grants.ListRetirableGrantsAsync(grant.RetiringPrincipal!, null, null, 10, Ct));
        Assert.Equal(1, await grants.CountGrantsAsync(KeyId, Ct));
        await grants.DeleteGrantAsync(KeyId, grant.GrantId, inserted.Version, Ct);
        Assert.Null(await grants.GetGrantAsync(KeyId, grant.GrantId, Ct));
    }

    public static TheoryData<string> Forgeries => new()
    {
        "unsealed", "empty seal", "grantee changed", "operation added", "constraint dropped", "retiring principal changed",
        "copied to another key", "sealed by another root key", "name changed", "creation date changed",
    };

    [Theory]
    [MemberData(nameof(Forgeries))]
    public async Task A_grant_written_or_edited_outside_EnvelopeKms_is_an_integrity_error_naming_key_and_grant_on_every_read(string forgery)
    {
        var inner = new InMemoryKeyStore();
        var sealing = StoreGrants.Sealing(inner);
        var grants = sealing.Grants!;
        var genuine = await grants.InsertGrantAsync(StoreGrants.Grant(KeyId, StoreGrants.GrantId(1)), Ct);
        using var otherRoot = new EnvelopeKms.Protection.AesGcmRootKey(new byte[32], null);
        var forged = forgery switch
        {
            "unsealed" => genuine with { GrantId = StoreGrants.GrantId(2), Seal = null },
            "empty seal" => genuine with { GrantId = StoreGrants.GrantId(2), Seal = [] },
            "grantee changed" => genuine with { GrantId = StoreGrants.GrantId(2), GranteePrincipal = "arn:aws:iam::999999999999:root" },
            "operation added" => genuine with { GrantId = StoreGrants.GrantId(2), Operations = ["Decrypt", "Encrypt", "ReEncryptFrom"] },
            "constraint dropped" => genuine with { GrantId = StoreGrants.GrantId(2), EncryptionContextSubset = null },
            "retiring principal changed" => genuine with { GrantId = StoreGrants.GrantId(2), RetiringPrincipal = "arn:aws:iam::111122223333:role/Alice" },
            "copied to another key" => genuine with { KeyId = OtherKeyId },
            "sealed by another root key" => RecordSeal.Seal(otherRoot, genuine with { GrantId = StoreGrants.GrantId(2) }),
            "name changed" => genuine with { GrantId = StoreGrants.GrantId(2), Name = "other" },
            "creation date changed" => genuine with { GrantId = StoreGrants.GrantId(2), CreationDate = genuine.CreationDate.AddSeconds(1) },
            _ => throw new ArgumentOutOfRangeException(nameof(forgery)),
        };

        // The seal of the genuine grant stays on the copy unless the forgery replaced it.
        await inner.InsertGrantAsync(forged, Ct);

        var e = await Assert.ThrowsAsync<KmsStorageIntegrityException>(async () => await grants.GetGrantAsync(forged.KeyId, forged.GrantId, Ct));
        Assert.Contains(forged.KeyId, e.Message, StringComparison.Ordinal);
        Assert.Contains(forged.GrantId, e.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<KmsStorageIntegrityException>(async () => await grants.ListGrantsAsync(forged.KeyId, null, 10, Ct));
        await Assert.ThrowsAsync<KmsStorageIntegrityException>(async () => await grants.ListGrantsForGranteeAsync(forged.KeyId, forged.GranteePrincipal, Ct));
        if (forged.RetiringPrincipal is { } retiring)
        {
            await Assert.ThrowsAsync<KmsStorageIntegrityException>(async () => await grants.ListRetirableGrantsAsync(retiring, null, null, 10, Ct));
        }

        // The genuine grant is still authentic on its own.
        if (forged.KeyId != KeyId)
        {
            Assert.NotNull(await grants.GetGrantAsync(KeyId, genuine.GrantId, Ct));
        }
    }

    [Fact]
    public async Task Grants_need_a_seal_even_in_a_store_of_the_unsealed_format()
    {
        var inner = new InMemoryKeyStore();
        var sealing = new SealingKeyStore(inner);
        sealing.Open(StoreGrants.TestRootKey(), formatVersion: 1);
        await inner.InsertGrantAsync(StoreGrants.Grant(KeyId, StoreGrants.GrantId(3)), Ct);

        await Assert.ThrowsAsync<KmsStorageIntegrityException>(async () => await sealing.Grants!.GetGrantAsync(KeyId, StoreGrants.GrantId(3), Ct));
    }

    /// <summary>A third-party store written before grants: it implements only <see cref="IKeyStore"/>.</summary>
    internal sealed class KeysOnlyStore(IKeyStore inner) : DelegatingKeyStore(inner);
}
