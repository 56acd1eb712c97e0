using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using EnvelopeKms.Protection;
using EnvelopeKms.Storage;
using EnvelopeKms.Tests.Infrastructure;

namespace EnvelopeKms.Tests.Storage;

/// <summary>
/// File-store specifics (RELIABILITY rows 38 and 39): unreadable documents are reported as
/// <see cref="KmsStorageIntegrityException"/> and left in place, temporary files never count,
/// and an unwritable directory is <see cref="KmsStorageUnavailableException"/>.
/// </summary>
public sealed class FileSystemKeyStoreTests : IDisposable
{
    private readonly TemporaryStoreDirectory _directory = new("filestore");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string KeysDirectory => Path.Combine(_directory.Path, "keys");

    private string AliasesDirectory => Path.Combine(_directory.Path, "aliases");

    public void Dispose() => _directory.Dispose();

    public static TheoryData<string, string> CorruptKeyDocuments => new()
    {
        { "zero-length", "" },
        { "whitespace only", "  \n " },
        { "JSON null", "null" },
        { "not JSON", "this is not a key document" },
        { "malformed JSON", "{\"formatVersion\": 1, \"key\": {\"keyId\": }" },
        { "trailing garbage", "{\"formatVersion\": 1} }" },
        { "no record", "{\"formatVersion\": 1}" },
        { "unknown property", "{\"formatVersion\": 1, \"key\": null, \"extra\": true}" },
    };

    [Theory]
    [MemberData(nameof(CorruptKeyDocuments))]
    public async Task A_corrupt_key_document_is_a_storage_integrity_error_and_is_left_in_place(string kind, string content)
    {
        var store = new FileSystemKeyStore(_directory.Path);
        await store.InsertKeyAsync(Key(NewKeyId()), Ct);
        var keyId = NewKeyId();
        var path = WriteKeyFile(keyId, Encoding.UTF8.GetBytes(content));

        await AssertCorruptKeyAsync(store, keyId, path, kind);
    }

    [Fact]
    public async Task A_half_written_key_document_is_a_storage_integrity_error_and_is_left_in_place()
    {
        var store = new FileSystemKeyStore(_directory.Path);
        var key = await store.InsertKeyAsync(Key(NewKeyId()), Ct);
        var path = Path.Combine(KeysDirectory, key.KeyId + ".json");
        var committed = await File.ReadAllBytesAsync(path, Ct);

        foreach (var length in new[] { 1, committed.Length / 3, committed.Length / 2, committed.Length - 2 })
        {
            await File.WriteAllBytesAsync(path, committed[..length], Ct);
            await AssertCorruptKeyAsync(new FileSystemKeyStore(_directory.Path), key.KeyId, path, $"truncated to {length} bytes");
        }
    }

    public static TheoryData<string> RecordMutations => new()
    {
        "format version 2",
        "format version 0",
        "names another key",
        "required field missing",
        "null for a non-nullable field",
        "unknown enum value",
        "wrapped material is not base64",
        "duplicate property",
        "version is a string",
    };

    [Theory]
    [MemberData(nameof(RecordMutations))]
    public async Task A_well_formed_key_document_with_bad_content_is_a_storage_integrity_error_and_is_left_in_place(string mutation)
    {
        var store = new FileSystemKeyStore(_directory.Path);
        var key = await store.InsertKeyAsync(FullKey(NewKeyId()), Ct);
        var path = Path.Combine(KeysDirectory, key.KeyId + ".json");
        var document = JsonNode.Parse(await File.ReadAllTextAsync(path, Ct))!.AsObject();
        var record = document["key"]!.AsObject();
        string text;
        switch (mutation)
        {
            case "format version 2":
                document["formatVersion"] = 2;
                break;
            case "format version 0":
                document["formatVersion"] = 0;
                break;
            case "names another key":
                record["keyId"] = NewKeyId();
                break;
            case "required field missing":
                record.Remove("keySpec");
                break;
            case "null for a non-nullable field":
                record["description"] = null;
                break;
            case "unknown enum value":
                record["keyState"] = "Enabledd";
                break;
            case "wrapped material is not base64":
                record["keyMaterials"]![0]!["wrappedMaterial"] = "not*base64!";
                break;
            case "version is a string":
                record["version"] = "1";
                break;
        }

        text = document.ToJsonString();
        if (mutation == "duplicate property")
        {
            text = text.Replace("\"keyState\":", "\"keyState\":\"Disabled\",\"keyState\":", StringComparison.Ordinal);
        }

        await File.WriteAllTextAsync(path, text, Ct);
        await AssertCorruptKeyAsync(new FileSystemKeyStore(_directory.Path), key.KeyId, path, mutation);
    }

    [Fact]
    public async Task An_unknown_format_version_is_named_in_the_error()
    {
        var store = new FileSystemKeyStore(_directory.Path);
        var key = await store.InsertKeyAsync(Key(NewKeyId()), Ct);
        var path = Path.Combine(KeysDirectory, key.KeyId + ".json");
        var document = JsonNode.Parse(await File.ReadAllTextAsync(path, Ct))!;
        document["formatVersion"] = 7;
        await File.WriteAllTextAsync(path, document.ToJsonString(), Ct);

        var error = await Assert.ThrowsAsync<KmsStorageIntegrityException>(async () => await store.GetKeyAsync(key.KeyId, Ct));

        Assert.Contains("format version 7", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_key_document_stored_under_another_key_id_is_not_served_as_that_key()
    {
        var store = new FileSystemKeyStore(_directory.Path);
        var a = await store.InsertKeyAsync(Key(NewKeyId()), Ct);
        var bId = NewKeyId();
        var bPath = Path.Combine(KeysDirectory, bId + ".json");
        File.Copy(Path.Combine(KeysDirectory, a.KeyId + ".json"), bPath);

        var error = await Assert.ThrowsAsync<KmsStorageIntegrityException>(async () => await store.GetKeyAsync(bId, Ct));

        Assert.Contains("names another key", error.Message, StringComparison.Ordinal);
        Assert.True(File.Exists(bPath));
        Assert.Equal(a.KeyId, (await store.GetKeyAsync(a.KeyId, Ct))!.KeyId);
    }

    [Fact]
    public async Task A_corrupt_key_fails_listing_with_a_storage_integrity_error_rather_than_being_skipped()
    {
        var store = new FileSystemKeyStore(_directory.Path);
        await store.InsertKeyAsync(Key(NewKeyId()), Ct);
        WriteKeyFile(NewKeyId(), "{"u8.ToArray());

        await Assert.ThrowsAsync<KmsStorageIntegrityException>(async () => await store.ListKeysAsync(null, 100, Ct));
    }

    [Theory]
    [InlineData("backup copy")]
    [InlineData("key.old")]
    [InlineData("ünïcode")]
    public async Task A_document_not_named_after_a_key_id_fails_listing_with_a_storage_integrity_error(string name)
    {
        using (var kms = NewManager())
        {
            await kms.Manager.CreateKeyAsync("listed", Ct);
        }

        var stray = Path.Combine(KeysDirectory, name + ".json");
        await File.WriteAllTextAsync(stray, "{}", Ct);

        var error = await Assert.ThrowsAsync<KmsStorageIntegrityException>(async () => await new FileSystemKeyStore(_directory.Path).ListKeysAsync(null, 100, Ct));
        Assert.Contains(name, error.Message, StringComparison.Ordinal);
        using (var kms = NewManager())
        {
            await Assert.ThrowsAsync<KmsStorageIntegrityException>(() => kms.Manager.ListKeysAsync(new ListKeysRequest(), Ct));
        }

        Assert.True(File.Exists(stray));
    }

    [Fact]
    public async Task Writes_to_a_corrupt_key_fail_with_storage_integrity_and_leave_the_file_untouched()
    {
        var store = new FileSystemKeyStore(_directory.Path);
        var keyId = NewKeyId();
        var path = WriteKeyFile(keyId, "{\"formatVersion\":"u8.ToArray());
        var before = await File.ReadAllBytesAsync(path, Ct);

        await Assert.ThrowsAsync<KmsStorageIntegrityException>(async () => await store.InsertKeyAsync(Key(keyId), Ct));
        await Assert.ThrowsAsync<KmsStorageIntegrityException>(async () => await store.UpdateKeyAsync(Key(keyId) with { Version = 1 }, Ct));
        await Assert.ThrowsAsync<KmsStorageIntegrityException>(async () => await store.DeleteKeyAsync(keyId, 1, Ct));

        Assert.Equal(before, await File.ReadAllBytesAsync(path, Ct));
    }

    [Fact]
    public async Task A_corrupt_alias_document_is_a_storage_integrity_error_and_other_aliases_keep_working()
    {
        var store = new FileSystemKeyStore(_directory.Path);
        var keyId = NewKeyId();
        await store.InsertAliasAsync(Alias("alias/good", keyId), Ct);
        await store.InsertAliasAsync(Alias("alias/bad", keyId), Ct);
        var badPath = Directory.GetFiles(AliasesDirectory).Single(f => File.ReadAllText(f).Contains("alias/bad", StringComparison.Ordinal));
        var committed = await File.ReadAllBytesAsync(badPath, Ct);
        await File.WriteAllBytesAsync(badPath, committed[..(committed.Length / 2)], Ct);

        await Assert.ThrowsAsync<KmsStorageIntegrityException>(async () => await store.GetAliasAsync("alias/bad", Ct));
        await Assert.ThrowsAsync<KmsStorageIntegrityException>(async () => await store.ListAliasesAsync(null, null, 100, Ct));

        Assert.Equal(keyId, (await store.GetAliasAsync("alias/good", Ct))!.TargetKeyId);
        Assert.Equal(committed[..(committed.Length / 2)], await File.ReadAllBytesAsync(badPath, Ct));
    }

    [Fact]
    public async Task An_alias_document_in_another_aliases_file_is_a_storage_integrity_error()
    {
        var store = new FileSystemKeyStore(_directory.Path);
        var keyId = NewKeyId();
        await store.InsertAliasAsync(Alias("alias/one", keyId), Ct);
        await store.InsertAliasAsync(Alias("alias/two", keyId), Ct);
        var files = Directory.GetFiles(AliasesDirectory);
        var one = files.Single(f => File.ReadAllText(f).Contains("alias/one", StringComparison.Ordinal));
        var two = files.Single(f => f != one);
        File.Copy(one, two, overwrite: true);

        var error = await Assert.ThrowsAsync<KmsStorageIntegrityException>(async () => await store.GetAliasAsync("alias/two", Ct));

        Assert.Contains("names another alias", error.Message, StringComparison.Ordinal);
        Assert.Equal("alias/one", (await store.GetAliasAsync("alias/one", Ct))!.AliasName);
    }

    [Fact]
    public async Task A_corrupt_store_json_is_a_storage_integrity_error_and_is_never_reinitialized()
    {
        using (var kms = NewManager())
        {
            await kms.Manager.CreateKeyAsync("before", Ct);
        }

        var metadataPath = Path.Combine(_directory.Path, "store.json");
        await File.WriteAllBytesAsync(metadataPath, (await File.ReadAllBytesAsync(metadataPath, Ct))[..20], Ct);
        var before = StoreFiles.Snapshot(_directory.Path);

        using (var kms = NewManager())
        {
            await Assert.ThrowsAsync<KmsStorageIntegrityException>(() => kms.Manager.CreateKeyAsync("after", Ct));
            await Assert.ThrowsAsync<KmsStorageIntegrityException>(async () => await kms.Store.InitializeMetadataAsync(
                new KeyStoreMetadata { FormatVersion = 1, RootKeyCheckValue = "x", CreationDate = DateTimeOffset.UnixEpoch }, Ct));
        }

        Assert.Equal(before, StoreFiles.Snapshot(_directory.Path));
    }

    [Fact]
    public async Task Through_the_key_manager_a_corrupt_key_fails_with_storage_integrity_and_other_keys_keep_working()
    {
        string good;
        string bad;
        byte[] goodCiphertext;
        using (var kms = NewManager())
        {
            good = (await kms.Manager.CreateKeyAsync("good", Ct)).KeyId;
            bad = (await kms.Manager.CreateKeyAsync("bad", Ct)).KeyId;
            goodCiphertext = await kms.Manager.EncryptAsync(good, "payload"u8.ToArray(), cancellationToken: Ct);
        }

        var badPath = Path.Combine(KeysDirectory, bad + ".json");
        await File.WriteAllBytesAsync(badPath, [], Ct);

        using (var kms = NewManager())
        {
            await Assert.ThrowsAsync<KmsStorageIntegrityException>(() => kms.Manager.DescribeKeyAsync(bad, Ct));
            await Assert.ThrowsAsync<KmsStorageIntegrityException>(() => kms.Manager.EncryptAsync(bad, "x"u8.ToArray(), cancellationToken: Ct));
            await Assert.ThrowsAsync<KmsStorageIntegrityException>(() => kms.Manager.DisableKeyAsync(new DisableKeyRequest { KeyId = bad }, Ct));

            Assert.Equal(KeyState.Enabled, (await kms.Manager.DescribeKeyAsync(good, Ct)).KeyState);
            Assert.Equal("payload"u8.ToArray(), await kms.Manager.DecryptAsync(goodCiphertext, cancellationToken: Ct));
            var blob = await kms.Manager.EncryptAsync(good, "more"u8.ToArray(), cancellationToken: Ct);
            Assert.Equal("more"u8.ToArray(), await kms.Manager.DecryptAsync(blob, cancellationToken: Ct));
            Assert.Contains(kms.Audit.Events, e => e.KeyId == bad && e.ErrorCode == KmsErrorCodes.StorageIntegrity);
        }

        Assert.True(File.Exists(badPath));
        Assert.Empty(await File.ReadAllBytesAsync(badPath, Ct));
    }

    // ------------------------------------------------------------------ temporary files

    [Fact]
    public async Task A_leftover_temporary_file_is_never_read_as_a_document()
    {
        var store = new FileSystemKeyStore(_directory.Path);
        var committed = await store.InsertKeyAsync(Key(NewKeyId()) with { Description = "committed" }, Ct);
        var committedPath = Path.Combine(KeysDirectory, committed.KeyId + ".json");
        var committedBytes = await File.ReadAllBytesAsync(committedPath, Ct);

        // A newer, complete version of the committed key that was never renamed into place.
        var newer = Encoding.UTF8.GetString(committedBytes).Replace("committed", "never committed", StringComparison.Ordinal);
        await File.WriteAllTextAsync(committedPath + ".00112233aabbccdd.tmp", newer, Ct);
        // A complete document of a key that was never committed at all, and a half-written one.
        var orphanId = NewKeyId();
        var orphan = Encoding.UTF8.GetString(committedBytes).Replace(committed.KeyId, orphanId, StringComparison.Ordinal);
        await File.WriteAllTextAsync(Path.Combine(KeysDirectory, orphanId + ".json.0123456789abcdef.tmp"), orphan, Ct);
        await File.WriteAllTextAsync(Path.Combine(KeysDirectory, NewKeyId() + ".json.fedcba9876543210.tmp"), orphan[..(orphan.Length / 2)], Ct);

        var reopened = new FileSystemKeyStore(_directory.Path);

        Assert.Equal("committed", (await reopened.GetKeyAsync(committed.KeyId, Ct))!.Description);
        Assert.Null(await reopened.GetKeyAsync(orphanId, Ct));
        Assert.Equal([committed.KeyId], (await reopened.ListKeysAsync(null, 100, Ct)).Select(k => k.KeyId));
        Assert.Equal(3, StoreFiles.TemporaryFiles(_directory.Path).Length);
    }

    [Fact]
    public async Task The_next_writer_removes_leftover_temporary_files_but_not_corrupt_documents()
    {
        var seed = new FileSystemKeyStore(_directory.Path);
        await seed.InitializeMetadataAsync(new KeyStoreMetadata { FormatVersion = 1, RootKeyCheckValue = "kcv", CreationDate = DateTimeOffset.UnixEpoch }, Ct);
        var key = await seed.InsertKeyAsync(Key(NewKeyId()), Ct);
        await seed.InsertAliasAsync(Alias("alias/a", key.KeyId), Ct);
        string[] leftovers =
        [
            Path.Combine(KeysDirectory, key.KeyId + ".json.0000000000000001.tmp"),
            Path.Combine(KeysDirectory, NewKeyId() + ".json.0000000000000002.tmp"),
            Path.Combine(AliasesDirectory, new string('a', 64) + ".json.0000000000000003.tmp"),
            Path.Combine(_directory.Path, "store.json.0000000000000004.tmp"),
        ];
        foreach (var leftover in leftovers)
        {
            await File.WriteAllTextAsync(leftover, "{\"formatVersion\":1,", Ct);
        }

        var corrupt = WriteKeyFile(NewKeyId(), []);

        var writer = new FileSystemKeyStore(_directory.Path);
        Assert.Equal(4, StoreFiles.TemporaryFiles(_directory.Path).Length);
        await writer.InsertKeyAsync(Key(NewKeyId()), Ct);

        Assert.Empty(StoreFiles.TemporaryFiles(_directory.Path));
        Assert.True(File.Exists(corrupt));
        Assert.Equal(key.KeyId, (await writer.GetKeyAsync(key.KeyId, Ct))!.KeyId);
        Assert.Equal(key.KeyId, (await writer.GetAliasAsync("alias/a", Ct))!.TargetKeyId);
        Assert.NotNull(await writer.GetMetadataAsync(Ct));
    }

    [Fact]
    public async Task Each_write_goes_through_a_temporary_file_flush_and_rename_and_each_delete_is_one_step()
    {
        var steps = new List<string>();
        var store = new FileSystemKeyStore(_directory.Path, steps.Add);
        var key = await store.InsertKeyAsync(Key(NewKeyId()), Ct);
        Assert.Equal(["create-temp", "write-half", "flushed", "renamed"], steps);

        steps.Clear();
        await store.DeleteKeyAsync(key.KeyId, key.Version, Ct);
        Assert.Equal(["delete", "deleted"], steps);
    }

    [Fact]
    public async Task At_each_write_step_before_the_rename_the_committed_document_is_what_readers_see()
    {
        var store = new FileSystemKeyStore(_directory.Path);
        var key = await store.InsertKeyAsync(Key(NewKeyId()) with { Description = "old" }, Ct);
        var reader = new FileSystemKeyStore(_directory.Path);
        var seen = new List<(string Step, string? Description, int TempFiles)>();
        var writer = new FileSystemKeyStore(_directory.Path, step =>
            seen.Add((step, reader.GetKeyAsync(key.KeyId, Ct).AsTask().GetAwaiter().GetResult()?.Description, StoreFiles.TemporaryFiles(_directory.Path).Length)));

        await writer.UpdateKeyAsync(key with { Description = "new" }, Ct);

        Assert.Equal(
            [("create-temp", "old", 0), ("write-half", "old", 1), ("flushed", "old", 1), ("renamed", "new", 0)],
            seen);
    }

    [Fact]
    public async Task An_io_error_in_the_middle_of_a_write_changes_nothing_and_leaves_no_temporary_file()
    {
        var store = new FileSystemKeyStore(_directory.Path);
        var key = await store.InsertKeyAsync(Key(NewKeyId()) with { Description = "old" }, Ct);
        var before = StoreFiles.Snapshot(_directory.Path);

        foreach (var failAt in new[] { "create-temp", "write-half", "flushed" })
        {
            var failing = new FileSystemKeyStore(_directory.Path, step =>
            {
                if (step == failAt)
                {
                    throw new IOException("Injected: the disk is full.");
                }
            });

            var error = await Assert.ThrowsAsync<KmsStorageUnavailableException>(async () => await failing.UpdateKeyAsync(key with { Description = "new" }, Ct));

            Assert.Contains("nothing was changed", error.Message, StringComparison.Ordinal);
            Assert.Equal(before, StoreFiles.Snapshot(_directory.Path));
            Assert.Equal("old", (await store.GetKeyAsync(key.KeyId, Ct))!.Description);
        }
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("a/b")]
    [InlineData("a.json")]
    [InlineData("")]
    public async Task A_key_id_that_could_escape_the_directory_is_rejected(string keyId)
    {
        var store = new FileSystemKeyStore(_directory.Path);
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await store.GetKeyAsync(keyId, Ct));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await store.InsertKeyAsync(Key(keyId), Ct));
        Assert.Empty(Directory.GetFiles(_directory.Parent, "*", SearchOption.AllDirectories));
    }

    // ------------------------------------------------------------------ unwritable directories

    [Fact]
    public async Task A_store_directory_that_is_not_writable_is_storage_unavailable_and_nothing_changes()
    {
        SkipUnlessPermissionsAreEnforced();
        var store = new FileSystemKeyStore(_directory.Path);
        var key = await store.InsertKeyAsync(Key(NewKeyId()), Ct);
        File.Delete(Path.Combine(_directory.Path, ".lock"));
        foreach (var directory in new[] { KeysDirectory, AliasesDirectory, _directory.Path })
        {
            SetMode(directory, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        }

        var before = StoreFiles.Snapshot(_directory.Path);
        var reopened = new FileSystemKeyStore(_directory.Path);

        await Assert.ThrowsAsync<KmsStorageUnavailableException>(async () => await reopened.InsertKeyAsync(Key(NewKeyId()), Ct));
        await Assert.ThrowsAsync<KmsStorageUnavailableException>(async () => await reopened.UpdateKeyAsync(key, Ct));
        await Assert.ThrowsAsync<KmsStorageUnavailableException>(async () => await reopened.DeleteKeyAsync(key.KeyId, key.Version, Ct));

        Assert.Equal(before, StoreFiles.Snapshot(_directory.Path));
        Assert.Equal(1, (await reopened.GetKeyAsync(key.KeyId, Ct))!.Version);
    }

    [Fact]
    public async Task A_store_whose_lock_exists_but_whose_key_directory_is_not_writable_is_storage_unavailable()
    {
        SkipUnlessPermissionsAreEnforced();
        var store = new FileSystemKeyStore(_directory.Path);
        var key = await store.InsertKeyAsync(Key(NewKeyId()), Ct);
        SetMode(KeysDirectory, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        var before = StoreFiles.Snapshot(_directory.Path);

        var error = await Assert.ThrowsAsync<KmsStorageUnavailableException>(async () => await new FileSystemKeyStore(_directory.Path).UpdateKeyAsync(key, Ct));

        Assert.Contains("cannot be written", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, StoreFiles.Snapshot(_directory.Path));
    }

    [Fact]
    public void A_store_directory_that_cannot_be_created_is_storage_unavailable()
    {
        SkipUnlessPermissionsAreEnforced();
        SetMode(_directory.Parent, UnixFileMode.UserRead | UnixFileMode.UserExecute);

        Assert.Throws<KmsStorageUnavailableException>(() => new FileSystemKeyStore(_directory.Path));
    }

    [Fact]
    public void A_store_directory_under_a_file_is_storage_unavailable()
    {
        var file = Path.Combine(_directory.Parent, "a-file");
        File.WriteAllText(file, "not a directory");

        Assert.Throws<KmsStorageUnavailableException>(() => new FileSystemKeyStore(Path.Combine(file, "store")));
    }

    // ------------------------------------------------------------------ helpers

    private async Task AssertCorruptKeyAsync(FileSystemKeyStore store, string keyId, string path, string kind)
    {
        var before = await File.ReadAllBytesAsync(path, Ct);

        var error = await Assert.ThrowsAsync<KmsStorageIntegrityException>(async () => await store.GetKeyAsync(keyId, Ct));
        Assert.Equal(KmsErrorCodes.StorageIntegrity, error.ErrorCode);
        Assert.Contains(keyId, error.Message, StringComparison.Ordinal);

        // Left in place, byte for byte, even after other writes.
        var other = await store.InsertKeyAsync(Key(NewKeyId()), Ct);
        Assert.True(File.Exists(path), kind);
        Assert.Equal(before, await File.ReadAllBytesAsync(path, Ct));
        Assert.Equal(other.KeyId, (await store.GetKeyAsync(other.KeyId, Ct))!.KeyId);
        await Assert.ThrowsAsync<KmsStorageIntegrityException>(async () => await new FileSystemKeyStore(_directory.Path).GetKeyAsync(keyId, Ct));
    }

    private string WriteKeyFile(string keyId, byte[] content)
    {
        Directory.CreateDirectory(KeysDirectory);
        var path = Path.Combine(KeysDirectory, keyId + ".json");
        File.WriteAllBytes(path, content);
        return path;
    }

    private TestKeyManager NewManager() => new(new FileSystemKeyStore(_directory.Path), new StaticRootKeyProvider(new byte[32]));

    private static string NewKeyId() => Guid.NewGuid().ToString("D");

    private static KeyRecord Key(string keyId) => StoreRecords.MinimalKey(keyId, DateTimeOffset.UnixEpoch);

    private static KeyRecord FullKey(string keyId) => Key(keyId) with
    {
        Description = "full",
        Tags = [new KeyTag("k", "v")],
        CurrentKeyMaterialId = new string('b', 64),
        KeyMaterials = [new KeyMaterialRecord { KeyMaterialId = new string('b', 64), CreationDate = DateTimeOffset.UnixEpoch, WrappedMaterial = RandomNumberGenerator.GetBytes(61) }],
    };

    private static AliasRecord Alias(string name, string target) => new()
    {
        AliasName = name,
        TargetKeyId = target,
        CreationDate = DateTimeOffset.UnixEpoch,
        LastUpdatedDate = DateTimeOffset.UnixEpoch,
    };

    private static void SetMode(string path, UnixFileMode mode)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, mode);
        }
    }

    /// <summary>Skips when file permissions are not enforced for this user (root), where the fault cannot be produced.</summary>
    private void SkipUnlessPermissionsAreEnforced()
    {
        if (OperatingSystem.IsWindows())
        {
            Assert.Skip("Unix file modes are needed to make a directory unwritable.");
        }

        var probe = Path.Combine(_directory.Parent, "probe");
        Directory.CreateDirectory(probe);
        SetMode(probe, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        var enforced = true;
        try
        {
            File.WriteAllText(Path.Combine(probe, "x"), "x");
            enforced = false;
        }
        catch (UnauthorizedAccessException)
        {
            // Expected: permissions are enforced.
        }
        finally
        {
            SetMode(probe, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            Directory.Delete(probe, recursive: true);
        }

        if (!enforced)
        {
            Assert.Skip($"Running as '{Environment.UserName}', for whom directory permissions are not enforced (root), so an unwritable directory cannot be produced.");
        }
    }

    [Fact]
    public async Task A_grant_document_edited_or_forged_on_disk_is_detected_through_the_sealing_store()
    {
        var store = new FileSystemKeyStore(_directory.Path);
        var grants = StoreGrants.Sealing(store).Grants!;
        const string keyId = "11111111-1111-1111-1111-111111111111";
        var genuine = await grants.InsertGrantAsync(StoreGrants.Grant(keyId, StoreGrants.GrantId(1)), Ct);
        var path = Path.Combine(_directory.Path, "grants", keyId, genuine.GrantId + ".json");
        Assert.True(File.Exists(path));

        // An edit of the stored bytes: the grantee becomes someone else.
        var text = await File.ReadAllTextAsync(path, Ct);
        await File.WriteAllTextAsync(path, text.Replace("role/Alice", "role/Mallory", StringComparison.Ordinal), Ct);

        var e = await Assert.ThrowsAsync<KmsStorageIntegrityException>(async () => await grants.GetGrantAsync(keyId, genuine.GrantId, Ct));
        Assert.Contains(keyId, e.Message, StringComparison.Ordinal);
        Assert.Contains(genuine.GrantId, e.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<KmsStorageIntegrityException>(async () => await grants.ListGrantsForGranteeAsync(keyId, "arn:aws:iam::111122223333:role/Mallory", Ct));
        Assert.True(File.Exists(path), "The forged document was left in place.");

        // A document written by hand for another grant id, with the genuine seal copied in.
        await File.WriteAllTextAsync(path, text, Ct);
        var forgedId = StoreGrants.GrantId(2);
        await File.WriteAllTextAsync(Path.Combine(Path.GetDirectoryName(path)!, forgedId + ".json"), text.Replace(genuine.GrantId, forgedId, StringComparison.Ordinal), Ct);

        Assert.NotNull(await grants.GetGrantAsync(keyId, genuine.GrantId, Ct));
        await Assert.ThrowsAsync<KmsStorageIntegrityException>(async () => await grants.GetGrantAsync(keyId, forgedId, Ct));
        await Assert.ThrowsAsync<KmsStorageIntegrityException>(async () => await grants.ListGrantsAsync(keyId, null, 10, Ct));
    }

    [Fact]
    public async Task Grant_documents_live_under_grants_by_key_and_deleting_all_of_a_keys_grants_removes_its_directory()
    {
        var store = new FileSystemKeyStore(_directory.Path);
        const string keyId = "22222222-2222-2222-2222-222222222222";
        await store.InsertGrantAsync(StoreGrants.Grant(keyId, StoreGrants.GrantId(1)), Ct);
        await store.InsertGrantAsync(StoreGrants.Grant(keyId, StoreGrants.GrantId(2)), Ct);
        var directory = Path.Combine(_directory.Path, "grants", keyId);
        Assert.Equal(2, Directory.GetFiles(directory, "*.json").Length);
        Assert.Empty(StoreFiles.TemporaryFiles(_directory.Path));

        Assert.Equal(2, await store.DeleteGrantsOfKeyAsync(keyId, Ct));

        Assert.False(Directory.Exists(directory));
        Assert.Equal(0, await store.DeleteGrantsOfKeyAsync(keyId, Ct));
        await Assert.ThrowsAsync<ArgumentException>(async () => await store.GetGrantAsync(keyId, "../../keys/x", Ct));
    }
}
