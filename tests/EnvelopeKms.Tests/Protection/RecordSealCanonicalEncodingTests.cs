using EnvelopeKms.Storage;

namespace EnvelopeKms.Tests.Protection;

/// <summary>
/// The canonical encodings that record seals MAC must never change: every sealed record in every
/// store was sealed over these bytes. The expected values were produced by the first release's
/// encoder; an optimisation of the encoder that changes one byte fails here.
/// </summary>
public sealed class RecordSealCanonicalEncodingTests
{
    private static readonly DateTimeOffset Created = new(2026, 3, 4, 5, 6, 7, TimeSpan.Zero);

    private static KeyRecord FullKey() => new()
    {
        KeyId = "1234abcd-12ab-34cd-56ef-1234567890ab",
        AccountId = "111122223333",
        CreationDate = Created,
        Description = "Ünïcödé description ✓",
        KeyState = KeyState.PendingDeletion,
        KeySpec = KeySpec.EccNistP384,
        KeyUsage = KeyUsage.SignVerify,
        Origin = KeyOrigin.AwsKms,
        KeyManager = KeyManagerType.Customer,
        DeletionDate = Created.AddDays(30),
        PendingDeletionWindowInDays = 30,
        Tags = [new KeyTag("env", "prod"), new KeyTag("team", "")],
        CurrentKeyMaterialId = new string('a', 64),
        KeyMaterials =
        [
            new KeyMaterialRecord { KeyMaterialId = new string('a', 64), CreationDate = Created, WrappedMaterial = [1, 2, 3, 255] },
            new KeyMaterialRecord { KeyMaterialId = new string('b', 64), CreationDate = Created.AddTicks(1), WrappedMaterial = [] },
        ],
        Seal = [9, 9, 9],
        Version = 42,
    };

    [Fact]
    public void The_canonical_encoding_of_a_key_record_is_byte_for_byte_the_first_releases()
        => Assert.Equal(ExpectedKey, Convert.ToHexString(RecordSeal.Canonical(FullKey())));

    [Fact]
    public void The_canonical_encoding_of_a_key_record_with_absent_values_is_byte_for_byte_the_first_releases()
    {
        var key = FullKey() with { DeletionDate = null, PendingDeletionWindowInDays = null, CurrentKeyMaterialId = null, Tags = [], KeyMaterials = [], Description = "" };
        Assert.Equal(ExpectedSparseKey, Convert.ToHexString(RecordSeal.Canonical(key)));
    }

    [Fact]
    public void The_canonical_encoding_of_an_alias_record_is_byte_for_byte_the_first_releases()
    {
        var alias = new AliasRecord { AliasName = "alias/app-ü", TargetKeyId = "1234abcd-12ab-34cd-56ef-1234567890ab", CreationDate = Created, LastUpdatedDate = Created.AddHours(1), Version = 3 };
        Assert.Equal(ExpectedAlias, Convert.ToHexString(RecordSeal.Canonical(alias)));
    }

    [Fact]
    public void The_seal_and_the_store_version_are_not_part_of_the_encoding()
        => Assert.Equal(RecordSeal.Canonical(FullKey()), RecordSeal.Canonical(FullKey() with { Seal = null, Version = 7 }));

    [Fact]
    public void A_key_policy_extends_the_encoding_of_the_same_record_without_one_by_its_own_labelled_field()
    {
        var key = FullKey() with { Policy = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" };
        Assert.Equal(ExpectedKey + ExpectedPolicyExtension, Convert.ToHexString(RecordSeal.Canonical(key)));
    }

    [Fact]
    public void A_key_without_a_policy_keeps_the_first_releases_encoding()
        => Assert.Equal(ExpectedKey, Convert.ToHexString(RecordSeal.Canonical(FullKey() with { Policy = null })));

    [Fact]
    public void The_policy_extension_follows_the_rotation_extension_and_both_change_the_seal()
    {
        var rotated = FullKey() with { RotationPeriodInDays = 365 };
        var both = rotated with { Policy = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" };
        var rotatedHex = Convert.ToHexString(RecordSeal.Canonical(rotated));
        Assert.StartsWith(ExpectedKey, rotatedHex, StringComparison.Ordinal);
        Assert.NotEqual(ExpectedKey, rotatedHex);
        Assert.Equal(rotatedHex + ExpectedPolicyExtension, Convert.ToHexString(RecordSeal.Canonical(both)));
        Assert.NotEqual(RecordSeal.Canonical(both), RecordSeal.Canonical(both with { Policy = "{}" }));
    }

    private static GrantRecord FullGrant() => new()
    {
        KeyId = "1234abcd-12ab-34cd-56ef-1234567890ab",
        GrantId = new string('c', 64),
        Name = "app:grant/1_a-B",
        GranteePrincipal = "arn:aws:iam::111122223333:role/Wörker",
        RetiringPrincipal = "arn:aws:iam::111122223333:user/Admin",
        IssuingAccount = "arn:aws:iam::111122223333:root",
        Operations = ["Decrypt", "Encrypt", "GenerateDataKey"],
        EncryptionContextSubset = new Dictionary<string, string>(StringComparer.Ordinal) { ["tenant"] = "ü", ["Tenant"] = "", ["app"] = "x" },
        EncryptionContextEquals = new Dictionary<string, string>(StringComparer.Ordinal) { ["k"] = "v" },
        CreationDate = Created,
        Seal = [1],
        Version = 5,
    };

    [Fact]
    public void The_canonical_encoding_of_a_grant_record_is_byte_for_byte_the_first_releases()
        => Assert.Equal(ExpectedGrant, Convert.ToHexString(RecordSeal.Canonical(FullGrant())));

    [Fact]
    public void The_canonical_encoding_of_a_grant_with_absent_values_is_byte_for_byte_the_first_releases()
    {
        var grant = new GrantRecord
        {
            KeyId = "1234abcd-12ab-34cd-56ef-1234567890ab",
            GrantId = new string('d', 64),
            GranteePrincipal = "arn:aws:iam::111122223333:root",
            IssuingAccount = "arn:aws:iam::111122223333:root",
            Operations = [],
            CreationDate = Created,
        };
        Assert.Equal(ExpectedSparseGrant, Convert.ToHexString(RecordSeal.Canonical(grant)));
    }

    [Fact]
    public void A_grants_encoding_ignores_seal_version_and_the_order_of_context_pairs_but_not_of_operations()
    {
        var grant = FullGrant();
        Assert.Equal(RecordSeal.Canonical(grant), RecordSeal.Canonical(grant with { Seal = null, Version = 1 }));
        var reordered = grant with
        {
            EncryptionContextSubset = new Dictionary<string, string>(StringComparer.Ordinal) { ["app"] = "x", ["tenant"] = "ü", ["Tenant"] = "" },
        };
        Assert.Equal(RecordSeal.Canonical(grant), RecordSeal.Canonical(reordered));
        Assert.NotEqual(RecordSeal.Canonical(grant), RecordSeal.Canonical(grant with { Operations = ["Encrypt", "Decrypt", "GenerateDataKey"] }));

        // Absent and empty constraints differ, and the two constraints are not interchangeable.
        Assert.NotEqual(RecordSeal.Canonical(grant with { EncryptionContextEquals = null }), RecordSeal.Canonical(grant with { EncryptionContextEquals = new Dictionary<string, string>() }));
        Assert.NotEqual(
            RecordSeal.Canonical(grant with { EncryptionContextSubset = grant.EncryptionContextEquals, EncryptionContextEquals = null }),
            RecordSeal.Canonical(grant with { EncryptionContextSubset = null }));
    }

    [Fact]
    public void A_key_in_a_custom_key_store_extends_the_encoding_by_its_own_labelled_fields()
    {
        var key = FullKey() with { CustomKeyStoreId = "cks-0123456789abcdef0", CustomKeyStoreKeyId = "xks-key-1" };
        Assert.Equal(ExpectedKey + ExpectedCustomKeyStoreExtension, Convert.ToHexString(RecordSeal.Canonical(key)));
    }

    [Fact]
    public void The_canonical_encoding_of_a_custom_key_store_record_never_changes()
    {
        var record = new CustomKeyStoreRecord
        {
            CustomKeyStoreId = "cks-0123456789abcdef0",
            CustomKeyStoreName = "hsm-ü",
            CustomKeyStoreType = EnvelopeKms.CustomKeyStores.CustomKeyStoreType.AwsCloudHsm,
            CreationDate = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero),
            CloudHsmClusterId = "cluster-1a23b4cdefg",
            WrappedCredential = [1, 2, 3],
            ConnectionState = EnvelopeKms.CustomKeyStores.CustomKeyStoreConnectionState.Failed,
            ConnectionErrorCode = EnvelopeKms.CustomKeyStores.CustomKeyStoreConnectionErrorCode.InvalidCredentials,
            Seal = [7],
            Version = 5,
        };
        Assert.Equal(ExpectedCustomKeyStoreRecord, Convert.ToHexString(RecordSeal.Canonical(record)));
        Assert.Equal(RecordSeal.Canonical(record), RecordSeal.Canonical(record with { Seal = null, Version = 9 }));
    }

    private const string ExpectedKey =
        "00000019456E76656C6F70654B6D73206B6579207265636F72642076310000002431323334616263642D313261622D33" +
        "3463642D353665662D3132333435363738393061620000000C3131313132323232333333330000001236333930383139" +
        "37353637303030303030300000001BC39C6EC3AF63C3B664C3A9206465736372697074696F6E20E29C930000000F5065" +
        "6E64696E6744656C6574696F6E0000000B4563634E697374503338340000000A5369676E566572696679000000064177" +
        "734B6D7300000008437573746F6D65720000001236333931303738393536373030303030303000000002333000000001" +
        "3200000003656E760000000470726F64000000047465616D000000000000004061616161616161616161616161616161" +
        "616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161" +
        "000000013200000040616161616161616161616161616161616161616161616161616161616161616161616161616161" +
        "616161616161616161616161616161616161616161616161610000001236333930383139373536373030303030303000" +
        "000004010203FF0000004062626262626262626262626262626262626262626262626262626262626262626262626262" +
        "626262626262626262626262626262626262626262626262626262000000123633393038313937353637303030303030" +
        "3100000000";
    private const string ExpectedSparseKey =
        "00000019456E76656C6F70654B6D73206B6579207265636F72642076310000002431323334616263642D313261622D33" +
        "3463642D353665662D3132333435363738393061620000000C3131313132323232333333330000001236333930383139" +
        "3735363730303030303030000000000000000F50656E64696E6744656C6574696F6E0000000B4563634E697374503338" +
        "340000000A5369676E566572696679000000064177734B6D7300000008437573746F6D6572FFFFFFFFFFFFFFFF000000" +
        "0130FFFFFFFF0000000130";
    private const string ExpectedAlias =
        "0000001B456E76656C6F70654B6D7320616C696173207265636F72642076310000000C616C6961732F6170702DC3BC00" +
        "00002431323334616263642D313261622D333463642D353665662D313233343536373839306162000000123633393038" +
        "3139373536373030303030303000000012363339303832303131363730303030303030";
    private const string ExpectedGrant =
        "0000001B456E76656C6F70654B6D73206772616E74207265636F72642076310000002431323334616263642D31326162" +
        "2D333463642D353665662D31323334353637383930616200000040636363636363636363636363636363636363636363" +
        "636363636363636363636363636363636363636363636363636363636363636363636363636363636363630000000F61" +
        "70703A6772616E742F315F612D420000002661726E3A6177733A69616D3A3A3131313132323232333333333A726F6C65" +
        "2F57C3B6726B65720000002461726E3A6177733A69616D3A3A3131313132323232333333333A757365722F41646D696E" +
        "0000001E61726E3A6177733A69616D3A3A3131313132323232333333333A726F6F740000000133000000074465637279" +
        "707400000007456E63727970740000000F47656E6572617465446174614B657900000001330000000654656E616E7400" +
        "0000000000000361707000000001780000000674656E616E7400000002C3BC0000000131000000016B00000001760000" +
        "0012363339303831393735363730303030303030";
    private const string ExpectedSparseGrant =
        "0000001B456E76656C6F70654B6D73206772616E74207265636F72642076310000002431323334616263642D31326162" +
        "2D333463642D353665662D31323334353637383930616200000040646464646464646464646464646464646464646464" +
        "64646464646464646464646464646464646464646464646464646464646464646464646464646464646464FFFFFFFF00" +
        "00001E61726E3A6177733A69616D3A3A3131313132323232333333333A726F6F74FFFFFFFF0000001E61726E3A617773" +
        "3A69616D3A3A3131313132323232333333333A726F6F740000000130FFFFFFFFFFFFFFFF000000123633393038313937" +
        "35363730303030303030";
    private const string ExpectedPolicyExtension =
        "0000002A456E76656C6F70654B6D73206B6579207265636F726420706F6C69637920657874656E73696F6E2076310000" +
        "00277B2256657273696F6E223A22323031322D31302D3137222C2253746174656D656E74223A5B5D7D";
    private const string ExpectedCustomKeyStoreExtension =
        "00000034456E76656C6F70654B6D73206B6579207265636F726420637573746F6D206B65792073746F72652065787465" +
        "6E73696F6E20763100000015636B732D303132333435363738396162636465663000000009786B732D6B65792D31";
    private const string ExpectedCustomKeyStoreRecord =
        "00000026456E76656C6F70654B6D7320637573746F6D206B65792073746F7265207265636F726420763100000015636B" +
        "732D30313233343536373839616263646566300000000668736D2DC3BC0000000B417773436C6F756448736D00000012" +
        "36333930323931393834353030303030303000000013636C75737465722D3161323362346364656667FFFFFFFFFFFFFF" +
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000003010203000000064661696C656400000012496E76616C6964437265" +
        "64656E7469616C73";
}
