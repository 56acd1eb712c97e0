using EnvelopeKms.CustomKeyStores;

namespace EnvelopeKms.Tests.CustomKeyStores;

/// <summary>The custom key store extension point speaks AWS KMS's names for states and error codes.</summary>
public sealed class CustomKeyStoreContractTests
{
    [Fact]
    public void Connection_states_have_the_aws_kms_names()
    {
        Assert.Equal(
            ["CONNECTED", "CONNECTING", "DISCONNECTED", "DISCONNECTING", "FAILED"],
            Enum.GetValues<CustomKeyStoreConnectionState>().Select(s => s.ToKmsName()));
    }

    [Fact]
    public void Connection_error_codes_are_every_aws_kms_value()
    {
        Assert.Equal(
            [
                "INTERNAL_ERROR", "NETWORK_ERRORS", "CLUSTER_NOT_FOUND", "INSUFFICIENT_CLOUDHSM_HSMS", "INSUFFICIENT_FREE_ADDRESSES_IN_SUBNET",
                "INVALID_CREDENTIALS", "SUBNET_NOT_FOUND", "USER_LOCKED_OUT", "USER_LOGGED_IN", "USER_NOT_FOUND",
                "XKS_PROXY_ACCESS_DENIED", "XKS_PROXY_INVALID_CONFIGURATION", "XKS_PROXY_INVALID_RESPONSE", "XKS_PROXY_INVALID_TLS_CONFIGURATION",
                "XKS_PROXY_NOT_REACHABLE", "XKS_PROXY_TIMED_OUT", "XKS_VPC_ENDPOINT_SERVICE_INVALID_CONFIGURATION", "XKS_VPC_ENDPOINT_SERVICE_NOT_FOUND",
            ],
            Enum.GetValues<CustomKeyStoreConnectionErrorCode>().Select(c => c.ToKmsName()));
    }

    [Fact]
    public void Names_parse_back_to_their_values_and_unknown_names_do_not()
    {
        foreach (var code in Enum.GetValues<CustomKeyStoreConnectionErrorCode>())
        {
            Assert.True(CustomKeyStoreNames.TryParseConnectionErrorCode(code.ToKmsName(), out var parsed));
            Assert.Equal(code, parsed);
        }

        foreach (var state in Enum.GetValues<CustomKeyStoreConnectionState>())
        {
            Assert.True(CustomKeyStoreNames.TryParseConnectionState(state.ToKmsName(), out var parsed));
            Assert.Equal(state, parsed);
        }

        Assert.False(CustomKeyStoreNames.TryParseConnectionErrorCode("invalid_credentials", out _));
        Assert.False(CustomKeyStoreNames.TryParseConnectionState(null, out _));
        Assert.Equal("AWS_CLOUDHSM", CustomKeyStoreType.AwsCloudHsm.ToKmsName());
        Assert.Equal("EXTERNAL_KEY_STORE", CustomKeyStoreType.ExternalKeyStore.ToKmsName());
    }

    [Fact]
    public void The_invalid_state_exception_carries_the_connection_state_and_error_code()
    {
        var e = new KmsCustomKeyStoreInvalidStateException("wrong PIN", CustomKeyStoreConnectionState.Failed, CustomKeyStoreConnectionErrorCode.InvalidCredentials);
        Assert.Equal("CustomKeyStoreInvalidStateException", e.ErrorCode);
        Assert.Equal(CustomKeyStoreConnectionState.Failed, e.ConnectionState);
        Assert.Equal(CustomKeyStoreConnectionErrorCode.InvalidCredentials, e.ConnectionErrorCode);
        Assert.Null(new KmsCustomKeyStoreInvalidStateException("m").ConnectionState);
    }

    [Fact]
    public void A_ciphertext_has_a_12_byte_iv_and_a_16_byte_tag()
    {
        var ciphertext = new CustomKeyStoreCiphertext(new byte[12], new byte[3], new byte[16]);
        Assert.Equal(3, ciphertext.Ciphertext.Length);
        Assert.Throws<KmsValidationException>(() => new CustomKeyStoreCiphertext(new byte[16], new byte[3], new byte[16]));
        Assert.Throws<KmsValidationException>(() => new CustomKeyStoreCiphertext(new byte[12], new byte[3], new byte[12]));
    }
}
