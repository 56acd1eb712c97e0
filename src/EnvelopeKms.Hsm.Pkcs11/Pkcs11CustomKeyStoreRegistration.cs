using EnvelopeKms.CustomKeyStores;
using EnvelopeKms.Hsm.Pkcs11;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers PKCS#11 tokens as the HSM "clusters" of HSM key stores (<c>CustomKeyStoreType.AwsCloudHsm</c>).</summary>
public static class Pkcs11CustomKeyStoreRegistration
{
    /// <summary>
    /// Maps a cluster id to a PKCS#11 module and token: a custom key store created with this <c>CloudHsmClusterId</c>
    /// connects with a <see cref="Pkcs11CustomKeyStoreBackend"/> that logs in as the token's user with the store's
    /// <c>KeyStorePassword</c> (the <c>kmsuser</c> password of CloudHSM is the user PIN here).
    /// </summary>
    /// <param name="registry">The key manager's registry (<c>KeyManager.CustomKeyStoreBackends</c>).</param>
    /// <param name="cloudHsmClusterId">The cluster id stores name.</param>
    /// <param name="modulePath">The PKCS#11 module, for example <c>/usr/lib/softhsm/libsofthsm2.so</c>.</param>
    /// <param name="tokenLabel">The label of the token holding the keys.</param>
    /// <param name="configure">Sets further options (sessions, waits); the PIN always comes from the store.</param>
    public static CustomKeyStoreBackendRegistry AddPkcs11HsmCluster(this CustomKeyStoreBackendRegistry registry, string cloudHsmClusterId, string modulePath, string tokenLabel, Action<Pkcs11HsmOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentException.ThrowIfNullOrWhiteSpace(modulePath);
        ArgumentException.ThrowIfNullOrWhiteSpace(tokenLabel);
        return registry.AddCloudHsmCluster(cloudHsmClusterId, context =>
        {
            var options = new Pkcs11HsmOptions { ModulePath = modulePath, TokenLabel = tokenLabel };
            configure?.Invoke(options);
            options.UserPin = Pkcs11PinSource.FromValue(context.Credential);
            return new Pkcs11CustomKeyStoreBackend(options);
        });
    }

    /// <summary>The builder form of <see cref="AddPkcs11HsmCluster(CustomKeyStoreBackendRegistry, string, string, string, Action{Pkcs11HsmOptions}?)"/>.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="cloudHsmClusterId">The cluster id stores name.</param>
    /// <param name="modulePath">The PKCS#11 module.</param>
    /// <param name="tokenLabel">The label of the token.</param>
    /// <param name="configure">Sets further options.</param>
    public static EnvelopeKmsBuilder AddPkcs11CustomKeyStoreCluster(this EnvelopeKmsBuilder builder, string cloudHsmClusterId, string modulePath, string tokenLabel, Action<Pkcs11HsmOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(cloudHsmClusterId);
        return builder.AddCustomKeyStoreBackends((_, registry) => registry.AddPkcs11HsmCluster(cloudHsmClusterId, modulePath, tokenLabel, configure));
    }
}
