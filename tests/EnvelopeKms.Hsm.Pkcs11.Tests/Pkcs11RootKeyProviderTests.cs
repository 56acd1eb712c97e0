using System.Security.Cryptography;
using System.Text;
using EnvelopeKms.Protection;
using Microsoft.Extensions.DependencyInjection;

namespace EnvelopeKms.Hsm.Pkcs11.Tests;

// The key manager calls use the convenience overloads, as an application would.
#pragma warning disable xUnit1051

[Collection(SoftHsmGroup.Name)]
public sealed class Pkcs11RootKeyProviderTests(SoftHsm hsm) : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"envelopekms-hsm-root-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private Pkcs11RootKeyProvider Provider(Pkcs11RootKeyMode mode, string label)
        => new(hsm.Options(SoftHsm.RootToken), label, mode);

    [Theory]
    [InlineData(Pkcs11RootKeyMode.EveryWrapInHsm)]
    [InlineData(Pkcs11RootKeyMode.UnwrapAtStart)]
    public async Task A_key_store_protected_by_the_HSM_root_key_round_trips_and_reopens_after_a_restart(Pkcs11RootKeyMode mode)
    {
        hsm.Require();
        var label = $"root-{mode}-{Guid.NewGuid():N}";
        var context = new Dictionary<string, string> { ["tenant"] = "contoso" };
        byte[] ciphertext;
        string keyId;
        using (var kms = KeyManagerFactory.Create(b => b.PersistKeysToFileSystem(_directory).ProtectKeysWith(_ => Provider(mode, label))))
        {
            keyId = (await kms.CreateKeyAsync("HSM root key test")).KeyId;
            ciphertext = await kms.EncryptAsync(keyId, Encoding.UTF8.GetBytes("secret"), context);
        }

        // A new process would do exactly this: a new provider and key manager on the same store and token.
        using (var kms = KeyManagerFactory.Create(b => b.PersistKeysToFileSystem(_directory).ProtectKeysWithPkcs11Hsm(hsm.Options(SoftHsm.RootToken), label, mode)))
        {
            Assert.Equal("secret", Encoding.UTF8.GetString(await kms.DecryptAsync(ciphertext, context)));
            var again = await kms.EncryptAsync(keyId, Encoding.UTF8.GetBytes("more"), context);
            Assert.Equal("more", Encoding.UTF8.GetString(await kms.DecryptAsync(again, context)));
        }
    }

    [Fact]
    public async Task The_root_key_is_found_by_the_id_the_store_recorded_not_by_label()
    {
        hsm.Require();
        var label = $"root-id-{Guid.NewGuid():N}";
        string parameters;
        using (var first = await Provider(Pkcs11RootKeyMode.EveryWrapInHsm, label).GetRootKeyAsync(null, TestContext.Current.CancellationToken))
        {
            parameters = first.Parameters!;
            Assert.StartsWith("pkcs11-aes-gcm-v1;id=", parameters, StringComparison.Ordinal);
            var wrapped = first.Wrap([1, 2, 3], "ad"u8);

            // A provider configured with another label still opens the recorded key.
            using var second = await Provider(Pkcs11RootKeyMode.EveryWrapInHsm, "some-other-label").GetRootKeyAsync(parameters, TestContext.Current.CancellationToken);
            Assert.Equal(first.KeyCheckValue, second.KeyCheckValue);
            var material = new byte[3];
            second.Unwrap(wrapped, "ad"u8, material);
            Assert.Equal(new byte[] { 1, 2, 3 }, material);
        }

        // A second new store with the same label uses the same (pre-provisioned) key.
        using var third = await Provider(Pkcs11RootKeyMode.EveryWrapInHsm, label).GetRootKeyAsync(null, TestContext.Current.CancellationToken);
        Assert.Equal(parameters, third.Parameters);
    }

    [Fact]
    public async Task Every_wrap_in_the_HSM_detects_tampering_and_another_record_as_a_StorageIntegrityException()
    {
        hsm.Require();
        using var rootKey = await Provider(Pkcs11RootKeyMode.EveryWrapInHsm, $"root-tamper-{Guid.NewGuid():N}").GetRootKeyAsync(null, TestContext.Current.CancellationToken);
        var material = RandomNumberGenerator.GetBytes(32);
        var wrapped = rootKey.Wrap(material, "key-1"u8);
        Assert.Equal(32, rootKey.GetUnwrappedLength(wrapped));

        var tampered = (byte[])wrapped.Clone();
        tampered[20] ^= 1;
        var output = new byte[32];
        Assert.Throws<KmsStorageIntegrityException>(() => rootKey.Unwrap(tampered, "key-1"u8, output));
        Assert.Throws<KmsStorageIntegrityException>(() => rootKey.Unwrap(wrapped, "key-2"u8, output));
        Assert.Equal(new byte[32], output);

        // Seals are wraps of nothing with the record as associated data.
        var seal = rootKey.Wrap([], "record"u8);
        rootKey.Unwrap(seal, "record"u8, []);
        Assert.Throws<KmsStorageIntegrityException>(() => rootKey.Unwrap(seal, "recorD"u8, []));
    }

    [Fact]
    public async Task Two_different_HSM_root_keys_have_different_key_check_values()
    {
        hsm.Require();
        using var a = await Provider(Pkcs11RootKeyMode.EveryWrapInHsm, $"root-a-{Guid.NewGuid():N}").GetRootKeyAsync(null, TestContext.Current.CancellationToken);
        using var b = await Provider(Pkcs11RootKeyMode.EveryWrapInHsm, $"root-b-{Guid.NewGuid():N}").GetRootKeyAsync(null, TestContext.Current.CancellationToken);
        Assert.NotEqual(a.KeyCheckValue, b.KeyCheckValue);
        using var a2 = await Provider(Pkcs11RootKeyMode.EveryWrapInHsm, "x").GetRootKeyAsync(a.Parameters, TestContext.Current.CancellationToken);
        Assert.Equal(a.KeyCheckValue, a2.KeyCheckValue);
    }

    [Fact]
    public async Task Unwrap_at_start_records_only_the_HSM_wrapped_root_key_and_detects_its_modification()
    {
        hsm.Require();
        var label = $"root-wrapped-{Guid.NewGuid():N}";
        using var first = await Provider(Pkcs11RootKeyMode.UnwrapAtStart, label).GetRootKeyAsync(null, TestContext.Current.CancellationToken);
        var parameters = first.Parameters!;
        Assert.StartsWith("pkcs11-wrapped-root-v1;id=", parameters, StringComparison.Ordinal);

        using var reopened = await Provider(Pkcs11RootKeyMode.UnwrapAtStart, label).GetRootKeyAsync(parameters, TestContext.Current.CancellationToken);
        Assert.Equal(first.KeyCheckValue, reopened.KeyCheckValue);

        var blob = Convert.FromBase64String(parameters[(parameters.IndexOf(";w=", StringComparison.Ordinal) + 3)..]);
        blob[20] ^= 1;
        var forged = parameters[..(parameters.IndexOf(";w=", StringComparison.Ordinal) + 3)] + Convert.ToBase64String(blob);
        await Assert.ThrowsAsync<KmsRootKeyException>(async () => await Provider(Pkcs11RootKeyMode.UnwrapAtStart, label).GetRootKeyAsync(forged, TestContext.Current.CancellationToken));

        // The modes do not mix.
        await Assert.ThrowsAsync<KmsRootKeyException>(async () => await Provider(Pkcs11RootKeyMode.EveryWrapInHsm, label).GetRootKeyAsync(parameters, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_store_made_with_another_root_key_provider_is_refused()
    {
        hsm.Require();
        await Assert.ThrowsAsync<KmsRootKeyException>(async () => await Provider(Pkcs11RootKeyMode.EveryWrapInHsm, "root-x").GetRootKeyAsync("", TestContext.Current.CancellationToken));
        await Assert.ThrowsAsync<KmsRootKeyException>(async () => await Provider(Pkcs11RootKeyMode.EveryWrapInHsm, "root-x").GetRootKeyAsync("pbkdf2-sha256;i=600000;s=AAAA", TestContext.Current.CancellationToken));

        // And a store of a static root key cannot be opened with the HSM one (its key check value differs).
        var dir = Path.Combine(_directory, "static");
        var staticKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        using (var kms = KeyManagerFactory.Create(b => b.PersistKeysToFileSystem(dir).ProtectKeysWithRootKey(staticKey)))
        {
            await kms.CreateKeyAsync("static");
        }

        using var hsmKms = KeyManagerFactory.Create(b => b.PersistKeysToFileSystem(dir).ProtectKeysWith(_ => Provider(Pkcs11RootKeyMode.EveryWrapInHsm, "root-y")));
        await Assert.ThrowsAsync<KmsRootKeyException>(async () => await hsmKms.CreateKeyAsync("hsm"));
    }

    [Fact]
    public async Task A_wrong_pin_for_the_root_key_is_a_RootKeyException_without_the_pin()
    {
        hsm.Require();
        var provider = new Pkcs11RootKeyProvider(hsm.Options(SoftHsm.PinToken, "9999-bad"), "root-pin");
        var e = await Assert.ThrowsAsync<KmsRootKeyException>(async () => await provider.GetRootKeyAsync(null, TestContext.Current.CancellationToken));
        Assert.Contains("INVALID_CREDENTIALS", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("9999-bad", e.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Root_key_wraps_run_in_parallel()
    {
        hsm.Require();
        using var rootKey = await Provider(Pkcs11RootKeyMode.EveryWrapInHsm, $"root-parallel-{Guid.NewGuid():N}").GetRootKeyAsync(null, TestContext.Current.CancellationToken);
        var results = await Task.WhenAll(Enumerable.Range(0, 100).Select(i => Task.Run(() =>
        {
            var material = BitConverter.GetBytes(i);
            var ad = BitConverter.GetBytes(-i);
            var wrapped = rootKey.Wrap(material, ad);
            var output = new byte[material.Length];
            rootKey.Unwrap(wrapped, ad, output);
            return output.AsSpan().SequenceEqual(material);
        }, TestContext.Current.CancellationToken)));
        Assert.All(results, Assert.True);
    }

    [Fact]
    public async Task The_HSM_root_key_reconnects_when_its_login_ends_behind_its_back()
    {
        hsm.Require();
        using var rootKey = await Provider(Pkcs11RootKeyMode.EveryWrapInHsm, $"root-relogin-{Guid.NewGuid():N}").GetRootKeyAsync(null, TestContext.Current.CancellationToken);
        var wrapped = rootKey.Wrap([7, 7, 7], "ad"u8);

        // Other code in the process logs the token out (PKCS#11 logins are per token and process).
        await using (var other = new Pkcs11CustomKeyStoreBackend(hsm.Options(SoftHsm.RootToken)))
        {
            await other.ConnectAsync(TestContext.Current.CancellationToken);
            var key = await other.CreateKeyAsync("logout-helper", TestContext.Current.CancellationToken);
            other.WithKey(key.BackendKeyId, (session, _) =>
            {
                session.Logout();
                return 0;
            });
        }

        var material = new byte[3];
        rootKey.Unwrap(wrapped, "ad"u8, material);
        Assert.Equal(new byte[] { 7, 7, 7 }, material);
        var again = rootKey.Wrap([8], "ad"u8);
        var one = new byte[1];
        rootKey.Unwrap(again, "ad"u8, one);
        Assert.Equal(8, one[0]);
    }
}
