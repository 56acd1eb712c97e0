using EnvelopeKms.Hsm.Pkcs11;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Builder verbs of the PKCS#11 HSM package.</summary>
public static class Pkcs11EnvelopeKmsBuilderExtensions
{
    /// <summary>
    /// Protects the key store with a root key that lives in a PKCS#11 HSM (see <see cref="Pkcs11RootKeyProvider"/>
    /// and <c>docs/hsm.md</c>): by default every wrap, unwrap and record seal runs in the HSM.
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <param name="hsm">The module, token and PIN source.</param>
    /// <param name="keyLabel">The label of the HSM key (generated in the HSM for a new store when no key has it).</param>
    /// <param name="mode">How the root key uses the HSM.</param>
    public static EnvelopeKmsBuilder ProtectKeysWithPkcs11Hsm(this EnvelopeKmsBuilder builder, Pkcs11HsmOptions hsm, string keyLabel = Pkcs11RootKeyProvider.DefaultKeyLabel, Pkcs11RootKeyMode mode = Pkcs11RootKeyMode.EveryWrapInHsm)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var provider = new Pkcs11RootKeyProvider(hsm, keyLabel, mode);
        return builder.ProtectKeysWith(_ => provider);
    }
}
