using System.Text;
using EnvelopeKms.Tests.Infrastructure;

namespace EnvelopeKms.Tests;

public sealed class SmokeTests
{
    [Fact]
    public async Task Encrypt_then_decrypt_returns_the_plaintext()
    {
        using var kms = new TestKeyManager();
        var key = await kms.Manager.CreateKeyAsync("smoke", TestContext.Current.CancellationToken);
        var blob = await kms.Manager.EncryptAsync(key.KeyId, Encoding.UTF8.GetBytes("hello"), cancellationToken: TestContext.Current.CancellationToken);
        var plaintext = await kms.Manager.DecryptAsync(blob, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal("hello", Encoding.UTF8.GetString(plaintext));
    }
}
