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
}
