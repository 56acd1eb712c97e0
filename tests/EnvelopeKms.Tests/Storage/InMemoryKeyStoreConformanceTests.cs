using EnvelopeKms.Storage;

namespace EnvelopeKms.Tests.Storage;

public sealed class InMemoryKeyStoreConformanceTests : KeyStoreConformanceTests
{
    protected override IKeyStore CreateStore() => new InMemoryKeyStore();
}
