using System.Security.Cryptography;
using EnvelopeKms.Auditing;
using Microsoft.Extensions.DependencyInjection;

namespace EnvelopeKms.Integrations.Tests;

/// <summary>The key manager most integration tests run on: an in-memory store under a fresh random root key.</summary>
internal static class TestKeyManagers
{
    /// <summary>Creates one; <paramref name="audit"/> receives its audit records, <paramref name="configure"/> adds to the builder.</summary>
    public static KeyManager InMemory(InMemoryAuditSink? audit = null, Action<EnvelopeKmsBuilder>? configure = null)
        => KeyManagerFactory.Create(b =>
        {
            b.UseInMemoryKeyStore().ProtectKeysWithRootKey(Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
            if (audit is not null)
            {
                b.AddAuditSink(_ => audit);
            }

            configure?.Invoke(b);
        });
}
