using System.Diagnostics;
using EnvelopeKms.Auditing;
using EnvelopeKms.Tests.KeyManagement;
using Microsoft.Extensions.DependencyInjection;

namespace EnvelopeKms.Tests.Auditing;

/// <summary>
/// Issue 8, item 3, with a real full disk: the JSON Lines trail lives on a 64 KiB tmpfs that the test
/// fills. Mounting needs root (CAP_SYS_ADMIN); where that is missing the test is skipped with the
/// reason, and under <c>CI=true</c> it fails instead.
/// </summary>
public sealed class AuditDiskFullTests
{
    [Fact]
    public async Task On_a_full_disk_operations_fail_closed_and_the_trail_continues_intact_once_space_returns()
    {
        using var volume = SmallVolume.Mount();
        var trail = Path.Combine(volume.Path, "audit.jsonl");
        int recorded;
        using (var manager = KeyManagerFactory.Create(b => b.UseInMemoryKeyStore().AddJsonLinesAuditTrail(trail)))
        {
            var key = (await manager.CreateKeyAsync(new CreateKeyRequest(), Kms.Ct)).KeyMetadata;
            var filler = Path.Combine(volume.Path, "filler");
            FillUp(filler);

            // The trail's last page still has room: use it up with records until the sink meets the full disk.
            recorded = 1;
            for (var i = 0; ; i++)
            {
                Assert.True(i < 64, "The trail never met the full disk.");
                try
                {
                    await manager.DescribeKeyAsync(new DescribeKeyRequest { KeyId = key.KeyId }, Kms.Ct);
                    recorded++;
                }
                catch (KmsAuditUnavailableException)
                {
                    break;
                }
            }

            var disable = await Assert.ThrowsAsync<KmsAuditUnavailableException>(() => manager.DisableKeyAsync(new DisableKeyRequest { KeyId = key.KeyId }, Kms.Ct));
            Assert.Contains("IOException", disable.Message, StringComparison.Ordinal);
            GenerateDataKeyResponse? dataKey = null;
            await Assert.ThrowsAsync<KmsAuditUnavailableException>(async () => dataKey = await manager.GenerateDataKeyAsync(new GenerateDataKeyRequest { KeyId = key.KeyId, KeySpec = DataKeySpec.Aes256 }, Kms.Ct));
            Assert.Null(dataKey);
            await Assert.ThrowsAsync<KmsAuditUnavailableException>(() => manager.CreateKeyAsync(new CreateKeyRequest(), Kms.Ct));

            File.Delete(filler);
            var described = await manager.DescribeKeyAsync(new DescribeKeyRequest { KeyId = key.KeyId }, Kms.Ct);
            Assert.Equal(KeyState.Enabled, described.KeyMetadata.KeyState);
            Assert.Single((await manager.ListKeysAsync(new ListKeysRequest(), Kms.Ct)).Items);
            await manager.DisableKeyAsync(new DisableKeyRequest { KeyId = key.KeyId }, Kms.Ct);
        }

        var verification = await AuditChainVerifier.VerifyAsync(trail, Kms.Ct);
        Assert.True(verification.IsIntact, verification.Problem);
        Assert.Equal(recorded + 3, verification.RecordsChecked); // DescribeKey, ListKeys, DisableKey after the refused ones, which left no trace.
    }

    private static void FillUp(string path)
    {
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1);
        var block = new byte[512];
        try
        {
            while (true)
            {
                stream.Write(block);
                stream.Flush(flushToDisk: true);
            }
        }
        catch (IOException)
        {
            // ENOSPC: the volume is full.
        }
    }

    /// <summary>A 64 KiB tmpfs mounted on a temporary directory, unmounted on dispose.</summary>
    private sealed class SmallVolume : IDisposable
    {
        private SmallVolume(string path) => Path = path;

        public string Path { get; }

        public static SmallVolume Mount()
        {
            var path = Directory.CreateTempSubdirectory("envelopekms-full-").FullName;
            var (exitCode, output) = Run("mount", $"-t tmpfs -o size=64k envelopekms-full {path}");
            if (exitCode != 0)
            {
                Directory.Delete(path);
                var reason = $"A small tmpfs could not be mounted to fill a disk (mount: {output.Trim()}); this needs root with CAP_SYS_ADMIN.";
                if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
                {
                    Assert.Fail(reason + " Under CI=true the disk-full test must run.");
                }

                Assert.Skip(reason);
            }

            return new SmallVolume(path);
        }

        public void Dispose()
        {
            Run("umount", Path);
            try
            {
                Directory.Delete(Path, recursive: true);
            }
            catch (IOException)
            {
                // Left for the system's temporary-file cleanup.
            }
        }

        private static (int ExitCode, string Output) Run(string command, string arguments)
        {
            try
            {
                using var process = Process.Start(new ProcessStartInfo(command, arguments) { RedirectStandardError = true, RedirectStandardOutput = true })!;
                var output = process.StandardError.ReadToEnd() + process.StandardOutput.ReadToEnd();
                process.WaitForExit();
                return (process.ExitCode, output);
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                return (-1, e.Message);
            }
        }
    }
}
