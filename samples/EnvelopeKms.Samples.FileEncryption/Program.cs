// EnvelopeKms file encryption: a large file encrypted and decrypted in constant memory.
//
//   dotnet run --project samples/EnvelopeKms.Samples.FileEncryption [size in MiB, default 256] [folder]
//
// Keeps its keys in a SQLite database, ./.file-encryption/keys.db (or in the folder given), protected
// by a development root key file beside it, and reuses its key (through an alias) on later runs.
// Writes a test file of the given size, encrypts it to a segmented envelope stream with a progress
// bar, shows the envelope header, decrypts it and compares SHA-256, decrypts one segment by random
// access, and shows that a file with one flipped byte is rejected. The large files are deleted at the end.

using System.Buffers.Binary;
using System.Diagnostics;
using System.Security.Cryptography;
using EnvelopeKms;
using EnvelopeKms.Envelope;
using Microsoft.Extensions.DependencyInjection;

const string AliasName = "alias/file-encryption";

if (args.Length > 0 && (!int.TryParse(args[0], out var parsed) || parsed < 0))
{
    Console.Error.WriteLine("Usage: EnvelopeKms.Samples.FileEncryption [size in MiB, default 256] [folder, default ./.file-encryption]");
    return 2;
}

var sizeMiB = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 256;
var size = (long)sizeMiB << 20;
var home = Path.GetFullPath(args.Length > 1 ? args[1] : ".file-encryption");
var storePath = Path.Combine(home, "keys.db");
var dataDirectory = Path.Combine(home, "data");
var originalPath = Path.Combine(dataDirectory, "original.bin");
var encryptedPath = Path.Combine(dataDirectory, "original.bin.ekms");
var decryptedPath = Path.Combine(dataDirectory, "decrypted.bin");
var context = new Dictionary<string, string> { ["file"] = "original.bin", ["purpose"] = "file-encryption-sample" };

Console.WriteLine("EnvelopeKms file encryption");
Console.WriteLine("===========================");
Console.WriteLine($"Folder:      {home}");
Console.WriteLine($"Key store:   {storePath} (SQLite)");

try
{
    using var kms = KeyManagerFactory.Create(b => b
        .PersistKeysToSqlite(storePath)
        .ProtectKeysWithDevelopmentRootKey(Path.Combine(home, "development-root.key")));
    using var encryptor = new EnvelopeEncryptor(kms);

    // 1. The wrapping key, reused through its alias on later runs.
    Step(1, "The KMS key that wraps the file's data key");
    var keyId = await GetOrCreateKeyAsync(kms);

    // 2. A large test file.
    Step(2, $"Write a {sizeMiB} MiB test file");
    Directory.CreateDirectory(dataDirectory);
    var originalHash = await WriteTestFileAsync(originalPath, size);
    Console.WriteLine($"   Wrote:       {Relative(originalPath)} ({size:N0} bytes), SHA-256 {Convert.ToHexStringLower(originalHash)}");

    // 3. Encrypt: one data key from KMS, then local AES-256-GCM segment by segment, in constant memory.
    Step(3, "Encrypt it as an envelope stream");
    var protector = encryptor.CreateProtector(AliasName, context);
    var stopwatch = Stopwatch.StartNew();
    await using (var source = OpenRead(originalPath))
    await using (var destination = OpenWrite(encryptedPath))
    {
        await protector.EncryptAsync(source, destination, new ProgressBar("   Encrypting ", size));
    }

    ProgressBar.Finish(stopwatch.Elapsed, size);
    var encryptedLength = new FileInfo(encryptedPath).Length;
    Console.WriteLine($"   Encrypted:   {Relative(encryptedPath)} ({encryptedLength:N0} bytes; predicted {protector.GetStreamCiphertextLength(size):N0})");

    // 4. The header: everything decryption needs, besides access to the KMS key.
    Step(4, "The envelope header");
    await using (var file = OpenRead(encryptedPath))
    {
        var prefix = new byte[4];
        await file.ReadExactlyAsync(prefix);
        file.Position = 0;
        using var reader = await encryptor.OpenStreamReaderAsync(file);
        Console.WriteLine($"   Format:      magic \"{(char)prefix[0]}{(char)prefix[1]}\", version {prefix[2]}, suite {prefix[3]} (segmented stream, key-committing)");
        Console.WriteLine($"   Key id:      {reader.KeyId}");
        Console.WriteLine($"   Data key:    {reader.EncryptedDataKeyLength} bytes encrypted under the KMS key (the data key itself is never stored)");
        Console.WriteLine($"   Context:     {string.Join(", ", reader.EncryptionContext.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"))}");
        Console.WriteLine($"   Header:      {reader.HeaderLength} bytes, with a 32-byte salt and a 32-byte key commitment");
        Console.WriteLine($"   Segments:    {reader.SegmentCount:N0} of {reader.SegmentSize:N0} bytes (each sealed with its index and a last-segment flag)");
        Console.WriteLine($"   Stream:      number {reader.StreamNumber} under this data key");
    }

    // 5. Decrypt, then compare.
    Step(5, "Decrypt it and compare");
    stopwatch.Restart();
    await using (var source = OpenRead(encryptedPath))
    await using (var destination = OpenWrite(decryptedPath))
    {
        await encryptor.DecryptAsync(source, destination, new ProgressBar("   Decrypting ", size));
    }

    ProgressBar.Finish(stopwatch.Elapsed, size);
    byte[] decryptedHash;
    await using (var decrypted = OpenRead(decryptedPath))
    {
        decryptedHash = await SHA256.HashDataAsync(decrypted);
    }

    var same = decryptedHash.AsSpan().SequenceEqual(originalHash);
    Console.WriteLine($"   SHA-256:     {Convert.ToHexStringLower(decryptedHash)}, {(same ? "identical to the original" : "DIFFERENT from the original")}");
    if (!same)
    {
        throw new InvalidOperationException("The decrypted file differs from the original.");
    }

    // 6. Random access: one segment from the middle, reading nothing else.
    Step(6, "Random access: decrypt one segment from the middle");
    await using (var file = OpenRead(encryptedPath))
    {
        using var reader = await encryptor.OpenStreamReaderAsync(file);
        var index = reader.SegmentCount / 2;
        var segment = new byte[reader.SegmentSize];
        var read = await reader.ReadSegmentAsync(index, segment);
        var expected = new byte[read];
        await using (var original = OpenRead(originalPath))
        {
            original.Position = index * reader.SegmentSize;
            await original.ReadExactlyAsync(expected);
        }

        var matches = segment.AsSpan(0, read).SequenceEqual(expected);
        Console.WriteLine($"   Segment:     {index:N0} of {reader.SegmentCount:N0}: {read:N0} bytes, {(matches ? "identical to" : "DIFFERENT from")} bytes {index * reader.SegmentSize:N0} to {(index * reader.SegmentSize) + read - 1:N0} of the original");
        if (!matches)
        {
            throw new InvalidOperationException("The segment differs from the original.");
        }
    }

    // 7. One flipped byte in the middle of the encrypted file: rejected, and no partial output is kept.
    Step(7, "Flip one byte in the middle of the encrypted file");
    var middle = encryptedLength / 2;
    await using (var file = new FileStream(encryptedPath, FileMode.Open, FileAccess.ReadWrite))
    {
        file.Position = middle;
        var b = file.ReadByte();
        file.Position = middle;
        file.WriteByte((byte)(b ^ 0x01));
    }

    Console.WriteLine($"   Flipped:     byte {middle:N0} of {encryptedLength:N0}");
    try
    {
        await using (var source = OpenRead(encryptedPath))
        await using (var destination = OpenWrite(decryptedPath))
        {
            await encryptor.DecryptAsync(source, destination);
        }

        throw new InvalidOperationException("The tampered file decrypted.");
    }
    catch (KmsInvalidCiphertextException e)
    {
        // The segments before the damaged one were authentic and already written: discard the partial output.
        File.Delete(decryptedPath);
        Console.WriteLine($"   Rejected:    {e.ErrorCode}: {e.Message}");
        Console.WriteLine("   The partial output was deleted: keep a decrypted file only when DecryptAsync completes.");
    }

    foreach (var path in new[] { originalPath, encryptedPath, decryptedPath })
    {
        File.Delete(path);
    }

    Console.WriteLine();
    Console.WriteLine($"Done. Deleted the test files; the key store in {home} is kept and reused on the next run.");
    return 0;
}
catch (KmsException e)
{
    Console.WriteLine();
    Console.WriteLine($"The sample stopped: {e.ErrorCode}: {e.Message}");
    return 1;
}

static async Task<string> GetOrCreateKeyAsync(IKeyManager kms)
{
    try
    {
        var existing = await kms.DescribeKeyAsync(AliasName);
        Console.WriteLine($"   Reusing key: {existing.KeyId} ({AliasName})");
        return existing.KeyId;
    }
    catch (KmsNotFoundException)
    {
        // First run on this store.
    }

    var key = (await kms.CreateKeyAsync(new CreateKeyRequest { Description = "File encryption sample key" })).KeyMetadata;
    await kms.CreateAliasAsync(new CreateAliasRequest { AliasName = AliasName, TargetKeyId = key.KeyId });
    Console.WriteLine($"   Created key: {key.KeyId}");
    Console.WriteLine($"   Alias:       {AliasName} -> {key.KeyId}");
    return key.KeyId;
}

// Pseudo-random content (fast, and not compressible), hashed as it is written.
static async Task<byte[]> WriteTestFileAsync(string path, long size)
{
    using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    var random = new Random(20260101);
    var buffer = new byte[1 << 20];
    await using var file = OpenWrite(path);
    for (long written = 0; written < size;)
    {
        var count = (int)Math.Min(buffer.Length, size - written);
        random.NextBytes(buffer.AsSpan(0, count));
        hash.AppendData(buffer, 0, count);
        await file.WriteAsync(buffer.AsMemory(0, count));
        written += count;
    }

    return hash.GetHashAndReset();
}

static FileStream OpenRead(string path) => new(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);

static FileStream OpenWrite(string path) => new(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);

string Relative(string path) => Path.GetRelativePath(home, path);

static void Step(int number, string title)
{
    Console.WriteLine();
    Console.WriteLine($"{number}. {title}");
}

/// <summary>A console progress bar, redrawn only when it changes; reports arrive synchronously, in order.</summary>
internal sealed class ProgressBar(string label, long total) : IProgress<long>
{
    private const int Width = 40;
    private int _last = -1;

    public void Report(long value)
    {
        var percent = total == 0 ? 100 : (int)(value * 100 / total);
        if (percent == _last)
        {
            return;
        }

        _last = percent;
        var filled = percent * Width / 100;
        Console.Write($"\r{label}[{new string('#', filled)}{new string('.', Width - filled)}] {percent,3}%");
    }

    public static void Finish(TimeSpan elapsed, long bytes)
    {
        var rate = bytes / Math.Max(elapsed.TotalSeconds, 1e-6) / (1 << 20);
        Console.WriteLine($"  {elapsed.TotalSeconds:F2} s, {rate:F0} MiB/s");
    }
}
