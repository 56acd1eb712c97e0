using EnvelopeKms.Storage;

namespace EnvelopeKms.Tests.Storage;

public sealed class FileSystemKeyStoreConformanceTests : DurableKeyStoreConformanceTests, IDisposable
{
    private readonly TemporaryStoreDirectory _directory = new("conformance");

    protected override IKeyStore CreateStore() => new FileSystemKeyStore(_directory.Path);

    protected override IKeyStore ReopenStore() => new FileSystemKeyStore(_directory.Path);

    public void Dispose() => _directory.Dispose();
}
