using System.Text;
using EnvelopeKms.CustomKeyStores;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;

namespace EnvelopeKms.Hsm.Pkcs11.Tests;

[Collection(SoftHsmGroup.Name)]
public sealed class Pkcs11CustomKeyStoreBackendTests(SoftHsm hsm)
{
    private static readonly byte[] Aad = Encoding.UTF8.GetBytes("kms-key:1234abcd;context:tenant=contoso");

    private async Task<Pkcs11CustomKeyStoreBackend> ConnectedAsync(int maxSessions = 8)
    {
        hsm.Require();
        var backend = new Pkcs11CustomKeyStoreBackend(hsm.Options(maxSessions: maxSessions));
        await backend.ConnectAsync(TestContext.Current.CancellationToken);
        return backend;
    }

    [Fact]
    public async Task A_key_generated_in_the_HSM_is_a_sensitive_never_extractable_token_object_labelled_with_the_kms_key_id()
    {
        await using var backend = await ConnectedAsync();
        var kmsKeyId = $"key-{Guid.NewGuid():N}";
        var key = await backend.CreateKeyAsync(kmsKeyId, TestContext.Current.CancellationToken);

        Assert.Equal(32, key.BackendKeyId.Length);
        Assert.Equal(kmsKeyId, key.KmsKeyId);
        Assert.Equal(256, key.KeySizeBits);
        Assert.False(key.MaterialExportable);
        Assert.True(key.MaterialNeverLeftBackend);

        var attributes = await backend.DescribeKeyAttributesAsync(key.BackendKeyId, TestContext.Current.CancellationToken);
        Assert.Equal(kmsKeyId, attributes.Label);
        Assert.Equal(key.BackendKeyId, attributes.Id);
        Assert.Equal(32, attributes.KeySizeBytes);
        Assert.True(attributes.Token);
        Assert.True(attributes.Private);
        Assert.True(attributes.Sensitive);
        Assert.True(attributes.AlwaysSensitive);
        Assert.False(attributes.Extractable);
        Assert.True(attributes.NeverExtractable);
        Assert.True(attributes.Local);
        Assert.True(attributes.Encrypt);
        Assert.True(attributes.Decrypt);
        Assert.False(attributes.Wrap);
        Assert.False(attributes.Unwrap);
        Assert.False(attributes.Modifiable);

        // The value itself cannot be read: C_GetAttributeValue reports CKA_VALUE as sensitive.
        var valueReadable = backend.WithKey(key.BackendKeyId, (session, handle) => !session.GetAttributeValue(handle, [CKA.CKA_VALUE])[0].CannotBeRead);
        Assert.False(valueReadable);
    }

    [Fact]
    public async Task A_key_made_here_cannot_be_made_extractable_nor_wrapped_out_of_the_HSM()
    {
        await using var backend = await ConnectedAsync();
        var key = await backend.CreateKeyAsync("key-extract", TestContext.Current.CancellationToken);
        var wrapping = await backend.CreateKeyAsync("key-wrapping", TestContext.Current.CancellationToken);

        var setExtractable = backend.WithKey(key.BackendKeyId, (session, handle) => Catch(() =>
            session.SetAttributeValue(handle, [session.Factories.ObjectAttributeFactory.Create(CKA.CKA_EXTRACTABLE, true)])));
        Assert.NotNull(setExtractable);

        var wrappingHandle = backend.WithKey(wrapping.BackendKeyId, (_, handle) => handle);
        var wrapOut = backend.WithKey(key.BackendKeyId, (session, handle) => Catch(() =>
        {
            using var mechanism = session.Factories.MechanismFactory.Create(CKM.CKM_AES_KEY_WRAP_PAD);
            session.WrapKey(mechanism, wrappingHandle, handle);
        }));
        Assert.NotNull(wrapOut);
    }

    [Fact]
    public async Task Encrypt_and_decrypt_run_in_the_HSM_and_round_trip_with_a_fresh_iv_each_time()
    {
        await using var backend = await ConnectedAsync();
        var key = await backend.CreateKeyAsync("key-roundtrip", TestContext.Current.CancellationToken);
        var plaintext = Encoding.UTF8.GetBytes("correct horse battery staple");

        var first = await backend.EncryptAsync(key.BackendKeyId, plaintext, Aad, TestContext.Current.CancellationToken);
        var second = await backend.EncryptAsync(key.BackendKeyId, plaintext, Aad, TestContext.Current.CancellationToken);

        Assert.Equal(12, first.Iv.Length);
        Assert.Equal(16, first.Tag.Length);
        Assert.Equal(plaintext.Length, first.Ciphertext.Length);
        Assert.False(first.Iv.Span.SequenceEqual(second.Iv.Span));
        Assert.False(first.Ciphertext.Span.SequenceEqual(plaintext));
        Assert.Equal(plaintext, await backend.DecryptAsync(key.BackendKeyId, first, Aad, TestContext.Current.CancellationToken));
        Assert.Equal(plaintext, await backend.DecryptAsync(key.BackendKeyId, second, Aad, TestContext.Current.CancellationToken));

        // Empty plaintext and empty AAD are valid GCM inputs.
        var empty = await backend.EncryptAsync(key.BackendKeyId, ReadOnlyMemory<byte>.Empty, ReadOnlyMemory<byte>.Empty, TestContext.Current.CancellationToken);
        Assert.Empty(await backend.DecryptAsync(key.BackendKeyId, empty, ReadOnlyMemory<byte>.Empty, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_ciphertext_made_in_the_HSM_is_standard_AES_GCM()
    {
        // The HSM's output has the layout of every other AES-GCM: checked by the tag length and by decrypting
        // with the wrong AAD length failing. (The key cannot leave the HSM, so no software decryption is possible.)
        await using var backend = await ConnectedAsync();
        var key = await backend.CreateKeyAsync("key-layout", TestContext.Current.CancellationToken);
        var sealedData = await backend.EncryptAsync(key.BackendKeyId, new byte[4096], Aad, TestContext.Current.CancellationToken);
        Assert.Equal(4096, sealedData.Ciphertext.Length);
        Assert.Equal(new byte[4096], await backend.DecryptAsync(key.BackendKeyId, sealedData, Aad, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Tampering_with_the_ciphertext_tag_iv_or_aad_is_an_InvalidCiphertextException()
    {
        await using var backend = await ConnectedAsync();
        var key = await backend.CreateKeyAsync("key-tamper", TestContext.Current.CancellationToken);
        var other = await backend.CreateKeyAsync("key-other", TestContext.Current.CancellationToken);
        var good = await backend.EncryptAsync(key.BackendKeyId, Encoding.UTF8.GetBytes("attack at dawn"), Aad, TestContext.Current.CancellationToken);

        var cases = new (string Name, string KeyId, CustomKeyStoreCiphertext Ciphertext, byte[] Aad)[]
        {
            ("ciphertext bit", key.BackendKeyId, new(good.Iv, Flip(good.Ciphertext), good.Tag), Aad),
            ("tag bit", key.BackendKeyId, new(good.Iv, good.Ciphertext, Flip(good.Tag)), Aad),
            ("iv bit", key.BackendKeyId, new(Flip(good.Iv), good.Ciphertext, good.Tag), Aad),
            ("aad bit", key.BackendKeyId, good, Flip(Aad).ToArray()),
            ("aad missing", key.BackendKeyId, good, []),
            ("truncated", key.BackendKeyId, new(good.Iv, good.Ciphertext[..^1], good.Tag), Aad),
            ("another key", other.BackendKeyId, good, Aad),
        };
        foreach (var (name, keyId, ciphertext, aad) in cases)
        {
            var e = await Assert.ThrowsAsync<KmsInvalidCiphertextException>(async () => await backend.DecryptAsync(keyId, ciphertext, aad, TestContext.Current.CancellationToken));
            Assert.True(e.ErrorCode == "InvalidCiphertextException", name);
        }

        // The session that saw the failures is still usable.
        Assert.Equal("attack at dawn", Encoding.UTF8.GetString(await backend.DecryptAsync(key.BackendKeyId, good, Aad, TestContext.Current.CancellationToken)));
    }

    [Fact]
    public async Task A_wrong_pin_fails_the_connection_with_INVALID_CREDENTIALS_and_no_pin_in_the_message()
    {
        hsm.Require();
        const string wrongPin = "0000-not-the-pin";
        await using var backend = new Pkcs11CustomKeyStoreBackend(hsm.Options(SoftHsm.PinToken, wrongPin));

        var e = await Assert.ThrowsAsync<KmsCustomKeyStoreInvalidStateException>(async () => await backend.ConnectAsync(TestContext.Current.CancellationToken));

        Assert.Equal("CustomKeyStoreInvalidStateException", e.ErrorCode);
        Assert.Equal(CustomKeyStoreConnectionState.Failed, e.ConnectionState);
        Assert.Equal(CustomKeyStoreConnectionErrorCode.InvalidCredentials, e.ConnectionErrorCode);
        Assert.Contains("INVALID_CREDENTIALS", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(wrongPin, e.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(SoftHsm.UserPin, e.ToString(), StringComparison.Ordinal);
        Assert.Equal(CustomKeyStoreConnectionState.Failed, backend.ConnectionState);
        Assert.Equal(CustomKeyStoreConnectionErrorCode.InvalidCredentials, backend.ConnectionErrorCode);
        Assert.DoesNotContain(wrongPin, backend.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(wrongPin, hsm.Options(SoftHsm.PinToken, wrongPin).ToString(), StringComparison.Ordinal);

        // Disconnecting clears the failure; the right PIN then connects.
        await backend.DisconnectAsync(TestContext.Current.CancellationToken);
        Assert.Equal(CustomKeyStoreConnectionState.Disconnected, backend.ConnectionState);
        Assert.Null(backend.ConnectionErrorCode);
        await using var right = new Pkcs11CustomKeyStoreBackend(hsm.Options(SoftHsm.PinToken));
        await right.ConnectAsync(TestContext.Current.CancellationToken);
        Assert.Equal(CustomKeyStoreConnectionState.Connected, right.ConnectionState);
    }

    [Fact]
    public async Task A_wrong_pin_is_refused_even_while_the_token_is_logged_in_by_another_connection()
    {
        // PKCS#11 logs in per token and process, so the token itself would accept any second login: the PIN is
        // compared with that of the login in force.
        await using var connected = await ConnectedAsync();
        await using var intruder = new Pkcs11CustomKeyStoreBackend(hsm.Options(pin: "1234-guess"));

        var e = await Assert.ThrowsAsync<KmsCustomKeyStoreInvalidStateException>(async () => await intruder.ConnectAsync(TestContext.Current.CancellationToken));

        Assert.Equal(CustomKeyStoreConnectionErrorCode.InvalidCredentials, e.ConnectionErrorCode);
        Assert.DoesNotContain("1234-guess", e.ToString(), StringComparison.Ordinal);
        Assert.Equal(CustomKeyStoreConnectionState.Connected, connected.ConnectionState);
    }

    [Fact]
    public async Task A_missing_token_or_module_fails_the_connection_with_CLUSTER_NOT_FOUND()
    {
        hsm.Require();
        await using var noToken = new Pkcs11CustomKeyStoreBackend(hsm.Options("no-such-token"));
        var e = await Assert.ThrowsAsync<KmsCustomKeyStoreInvalidStateException>(async () => await noToken.ConnectAsync(TestContext.Current.CancellationToken));
        Assert.Equal(CustomKeyStoreConnectionErrorCode.ClusterNotFound, e.ConnectionErrorCode);
        Assert.Contains("no-such-token", e.Message, StringComparison.Ordinal);

        var options = hsm.Options();
        options.ModulePath = "/nonexistent/libpkcs11.so";
        await using var noModule = new Pkcs11CustomKeyStoreBackend(options);
        e = await Assert.ThrowsAsync<KmsCustomKeyStoreInvalidStateException>(async () => await noModule.ConnectAsync(TestContext.Current.CancellationToken));
        Assert.Equal(CustomKeyStoreConnectionErrorCode.ClusterNotFound, e.ConnectionErrorCode);
        Assert.Equal(CustomKeyStoreConnectionState.Failed, noModule.ConnectionState);
    }

    [Fact]
    public async Task A_disconnected_backend_refuses_operations_with_CustomKeyStoreInvalidStateException_and_its_keys_return_after_reconnecting()
    {
        hsm.Require();
        await using var backend = new Pkcs11CustomKeyStoreBackend(hsm.Options());
        var never = await Assert.ThrowsAsync<KmsCustomKeyStoreInvalidStateException>(async () => await backend.CreateKeyAsync("key-never", TestContext.Current.CancellationToken));
        Assert.Equal(CustomKeyStoreConnectionState.Disconnected, never.ConnectionState);

        await backend.ConnectAsync(TestContext.Current.CancellationToken);
        await backend.ConnectAsync(TestContext.Current.CancellationToken); // Idempotent.
        var key = await backend.CreateKeyAsync("key-reconnect", TestContext.Current.CancellationToken);
        var sealedData = await backend.EncryptAsync(key.BackendKeyId, new byte[] { 1, 2, 3 }, Aad, TestContext.Current.CancellationToken);

        await backend.DisconnectAsync(TestContext.Current.CancellationToken);
        Assert.Equal(CustomKeyStoreConnectionState.Disconnected, backend.ConnectionState);
        var e = await Assert.ThrowsAsync<KmsCustomKeyStoreInvalidStateException>(async () => await backend.DecryptAsync(key.BackendKeyId, sealedData, Aad, TestContext.Current.CancellationToken));
        Assert.Equal("CustomKeyStoreInvalidStateException", e.ErrorCode);
        Assert.Equal(CustomKeyStoreConnectionState.Disconnected, e.ConnectionState);
        var health = await backend.CheckHealthAsync(TestContext.Current.CancellationToken);
        Assert.False(health.Healthy);
        Assert.Equal(CustomKeyStoreConnectionState.Disconnected, health.ConnectionState);

        await backend.ConnectAsync(TestContext.Current.CancellationToken);
        Assert.Equal(new byte[] { 1, 2, 3 }, await backend.DecryptAsync(key.BackendKeyId, sealedData, Aad, TestContext.Current.CancellationToken));
        health = await backend.CheckHealthAsync(TestContext.Current.CancellationToken);
        Assert.True(health.Healthy);
        Assert.Contains(SoftHsm.KeysToken, health.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Disconnecting_one_backend_does_not_log_out_another_on_the_same_token()
    {
        await using var first = await ConnectedAsync();
        await using var second = await ConnectedAsync();
        var key = await first.CreateKeyAsync("key-shared-login", TestContext.Current.CancellationToken);

        await first.DisconnectAsync(TestContext.Current.CancellationToken);

        var sealedData = await second.EncryptAsync(key.BackendKeyId, new byte[] { 9 }, Aad, TestContext.Current.CancellationToken);
        Assert.Equal(new byte[] { 9 }, await second.DecryptAsync(key.BackendKeyId, sealedData, Aad, TestContext.Current.CancellationToken));
        Assert.True((await second.CheckHealthAsync(TestContext.Current.CancellationToken)).Healthy);
    }

    [Fact]
    public async Task Parallel_operations_share_the_session_pool_without_interference()
    {
        await using var backend = await ConnectedAsync(maxSessions: 3);
        var keys = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            keys.Add((await backend.CreateKeyAsync($"key-parallel-{i}", TestContext.Current.CancellationToken)).BackendKeyId);
        }

        var tasks = Enumerable.Range(0, 200).Select(i => Task.Run(async () =>
        {
            var keyId = keys[i % keys.Count];
            var plaintext = Encoding.UTF8.GetBytes($"message {i}");
            var aad = Encoding.UTF8.GetBytes($"aad {i}");
            var sealedData = await backend.EncryptAsync(keyId, plaintext, aad, TestContext.Current.CancellationToken);
            var decrypted = await backend.DecryptAsync(keyId, sealedData, aad, TestContext.Current.CancellationToken);
            return decrypted.AsSpan().SequenceEqual(plaintext);
        }, TestContext.Current.CancellationToken)).ToArray();

        var results = await Task.WhenAll(tasks);
        Assert.All(results, Assert.True);
    }

    [Fact]
    public async Task A_deleted_key_is_gone_from_the_HSM_and_using_it_is_a_KMSInvalidStateException()
    {
        await using var backend = await ConnectedAsync();
        var key = await backend.CreateKeyAsync("key-delete", TestContext.Current.CancellationToken);
        await backend.DeleteKeyAsync(key.BackendKeyId, TestContext.Current.CancellationToken);
        await backend.DeleteKeyAsync(key.BackendKeyId, TestContext.Current.CancellationToken); // Already gone: nothing to do.

        var e = await Assert.ThrowsAsync<KmsInvalidStateException>(async () => await backend.EncryptAsync(key.BackendKeyId, new byte[] { 1 }, Aad, TestContext.Current.CancellationToken));
        Assert.Equal("KMSInvalidStateException", e.ErrorCode);
        await Assert.ThrowsAsync<KmsInvalidStateException>(async () => await backend.DescribeKeyAsync(key.BackendKeyId, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_malformed_backend_key_id_is_a_ValidationException()
    {
        await using var backend = await ConnectedAsync();
        await Assert.ThrowsAsync<KmsValidationException>(async () => await backend.EncryptAsync("not-hex", new byte[] { 1 }, Aad, TestContext.Current.CancellationToken));
        await Assert.ThrowsAsync<KmsValidationException>(async () => await backend.EncryptAsync(new string('a', 32), new byte[Pkcs11CustomKeyStoreBackend.MaxPlaintextBytes + 1], Aad, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Keys_persist_in_the_token_across_backend_instances()
    {
        string backendKeyId;
        CustomKeyStoreCiphertext sealedData;
        await using (var first = await ConnectedAsync())
        {
            backendKeyId = (await first.CreateKeyAsync("key-persist", TestContext.Current.CancellationToken)).BackendKeyId;
            sealedData = await first.EncryptAsync(backendKeyId, new byte[] { 42 }, Aad, TestContext.Current.CancellationToken);
        }

        await using var second = await ConnectedAsync();
        Assert.Equal(new byte[] { 42 }, await second.DecryptAsync(backendKeyId, sealedData, Aad, TestContext.Current.CancellationToken));
    }

    private static ReadOnlyMemory<byte> Flip(ReadOnlyMemory<byte> data)
    {
        var copy = data.ToArray();
        copy[copy.Length / 2] ^= 0x01;
        return copy;
    }

    private static Pkcs11Exception? Catch(Action action)
    {
        try
        {
            action();
            return null;
        }
        catch (Pkcs11Exception e)
        {
            return e;
        }
    }
}

[Collection(SoftHsmGroup.Name)]
public sealed class Pkcs11CustomKeyStoreFailureTests(SoftHsm hsm)
{
    [Fact]
    public async Task An_operation_that_finds_no_free_session_in_time_is_a_DependencyTimeoutException()
    {
        hsm.Require();
        var options = hsm.Options(maxSessions: 1);
        options.SessionWaitTimeout = TimeSpan.FromMilliseconds(200);
        await using var backend = new Pkcs11CustomKeyStoreBackend(options);
        await backend.ConnectAsync(TestContext.Current.CancellationToken);
        var key = await backend.CreateKeyAsync("key-timeout", TestContext.Current.CancellationToken);

        using var holding = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var holder = Task.Run(() => backend.WithKey(key.BackendKeyId, (_, _) =>
        {
            holding.Set();
            release.Wait(TimeSpan.FromSeconds(30));
            return 0;
        }), TestContext.Current.CancellationToken);
        Assert.True(holding.Wait(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken));

        var e = await Assert.ThrowsAsync<KmsDependencyTimeoutException>(async () => await backend.EncryptAsync(key.BackendKeyId, new byte[] { 1 }, ReadOnlyMemory<byte>.Empty, TestContext.Current.CancellationToken));
        Assert.Equal("DependencyTimeoutException", e.ErrorCode);

        release.Set();
        await holder;
        await backend.EncryptAsync(key.BackendKeyId, new byte[] { 1 }, ReadOnlyMemory<byte>.Empty, TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task A_login_ended_behind_the_backends_back_makes_the_store_FAILED_and_reconnecting_heals_it()
    {
        hsm.Require();
        await using var backend = new Pkcs11CustomKeyStoreBackend(hsm.Options());
        await backend.ConnectAsync(TestContext.Current.CancellationToken);
        var key = await backend.CreateKeyAsync("key-logout", TestContext.Current.CancellationToken);
        var sealedData = await backend.EncryptAsync(key.BackendKeyId, new byte[] { 5 }, ReadOnlyMemory<byte>.Empty, TestContext.Current.CancellationToken);

        // Other code in the process logs the token out.
        backend.WithKey(key.BackendKeyId, (session, _) =>
        {
            session.Logout();
            return 0;
        });
        var e = await Assert.ThrowsAsync<KmsCustomKeyStoreInvalidStateException>(async () => await backend.DecryptAsync(key.BackendKeyId, sealedData, ReadOnlyMemory<byte>.Empty, TestContext.Current.CancellationToken));
        Assert.Equal(CustomKeyStoreConnectionState.Failed, e.ConnectionState);
        Assert.Equal(CustomKeyStoreConnectionState.Failed, backend.ConnectionState);
        Assert.NotNull(backend.ConnectionErrorCode);
        Assert.False((await backend.CheckHealthAsync(TestContext.Current.CancellationToken)).Healthy);

        // Connecting a failed store starts again and logs in.
        await backend.ConnectAsync(TestContext.Current.CancellationToken);
        Assert.Equal(CustomKeyStoreConnectionState.Connected, backend.ConnectionState);
        Assert.Equal(new byte[] { 5 }, await backend.DecryptAsync(key.BackendKeyId, sealedData, ReadOnlyMemory<byte>.Empty, TestContext.Current.CancellationToken));

        // A new connection to a token logged out behind the process's back logs in again too.
        backend.WithKey(key.BackendKeyId, (session, _) =>
        {
            session.Logout();
            return 0;
        });
        await using var fresh = new Pkcs11CustomKeyStoreBackend(hsm.Options());
        await fresh.ConnectAsync(TestContext.Current.CancellationToken);
        Assert.Equal(new byte[] { 5 }, await fresh.DecryptAsync(key.BackendKeyId, sealedData, ReadOnlyMemory<byte>.Empty, TestContext.Current.CancellationToken));
    }

    [Fact]
    public void The_options_and_pin_sources_never_show_the_pin()
    {
        var options = new Pkcs11HsmOptions { ModulePath = "/m.so", TokenLabel = "t", UserPin = Pkcs11PinSource.FromValue("s3cret-pin") };
        Assert.DoesNotContain("s3cret-pin", options.ToString(), StringComparison.Ordinal);
        Assert.Equal("s3cret-pin", Encoding.UTF8.GetString(options.UserPin.GetPin()));
        Assert.Contains("ENVELOPEKMS_TEST_PIN", Pkcs11PinSource.FromEnvironment("ENVELOPEKMS_TEST_PIN").ToString(), StringComparison.Ordinal);
        var missing = Assert.Throws<KmsValidationException>(() => Pkcs11PinSource.FromEnvironment("ENVELOPEKMS_TEST_PIN_NOT_SET").GetPin());
        Assert.Contains("ENVELOPEKMS_TEST_PIN_NOT_SET", missing.Message, StringComparison.Ordinal);
        Assert.Throws<KmsValidationException>(() => new Pkcs11CustomKeyStoreBackend(new Pkcs11HsmOptions { ModulePath = "/m.so", TokenLabel = "t" }));
    }

    [Fact]
    public async Task A_pin_source_with_no_pin_fails_the_connection_with_INVALID_CREDENTIALS()
    {
        hsm.Require();
        var options = hsm.Options();
        options.UserPin = Pkcs11PinSource.FromEnvironment("ENVELOPEKMS_TEST_PIN_NOT_SET");
        await using var backend = new Pkcs11CustomKeyStoreBackend(options);
        var e = await Assert.ThrowsAsync<KmsCustomKeyStoreInvalidStateException>(async () => await backend.ConnectAsync(TestContext.Current.CancellationToken));
        Assert.Equal(CustomKeyStoreConnectionErrorCode.InvalidCredentials, e.ConnectionErrorCode);
    }
}

[Collection(SoftHsmGroup.Name)]
public sealed class Pkcs11CustomKeyStoreLifecycleTests(SoftHsm hsm)
{
    [Fact]
    public async Task Disconnecting_while_operations_run_lets_each_succeed_or_fail_with_CustomKeyStoreInvalidStateException()
    {
        hsm.Require();
        await using var backend = new Pkcs11CustomKeyStoreBackend(hsm.Options(maxSessions: 4));
        await backend.ConnectAsync(TestContext.Current.CancellationToken);
        var key = await backend.CreateKeyAsync("key-lifecycle", TestContext.Current.CancellationToken);

        using var stop = new CancellationTokenSource();
        var workers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            var (succeeded, refused) = (0, 0);
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    var sealedData = await backend.EncryptAsync(key.BackendKeyId, new byte[] { 1, 2 }, ReadOnlyMemory<byte>.Empty, CancellationToken.None);
                    await backend.DecryptAsync(key.BackendKeyId, sealedData, ReadOnlyMemory<byte>.Empty, CancellationToken.None);
                    succeeded++;
                }
                catch (KmsCustomKeyStoreInvalidStateException)
                {
                    refused++;
                }
            }

            return (succeeded, refused);
        }, TestContext.Current.CancellationToken)).ToArray();

        for (var i = 0; i < 5; i++)
        {
            await Task.Delay(30, TestContext.Current.CancellationToken);
            await backend.DisconnectAsync(TestContext.Current.CancellationToken);
            await Task.Delay(10, TestContext.Current.CancellationToken);
            await backend.ConnectAsync(TestContext.Current.CancellationToken);
        }

        await Task.Delay(30, TestContext.Current.CancellationToken);
        await stop.CancelAsync();
        var results = await Task.WhenAll(workers);
        Assert.True(results.Sum(r => r.succeeded) > 0);
        Assert.Equal(CustomKeyStoreConnectionState.Connected, backend.ConnectionState);
        Assert.True((await backend.CheckHealthAsync(TestContext.Current.CancellationToken)).Healthy);
    }
}
