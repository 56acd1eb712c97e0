using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Amazon.KeyManagementService;
using Amazon.Runtime;
using Aws = Amazon.KeyManagementService.Model;

namespace EnvelopeKms.KmsEndpoint.Tests;

/// <summary>
/// The runnable sample host (samples/EnvelopeKms.Samples.KmsEndpoint), started as a child process on a
/// free port the way a user runs it, and called with the official AWS SDK client using the access key it prints.
/// </summary>
public sealed class SampleHostTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("envelopekms-endpoint-sample-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_data, recursive: true);

    [Fact]
    public async Task The_sample_host_serves_the_AWS_SDK_with_the_access_key_it_prints_and_keeps_keys_and_access_key_across_runs()
    {
        string keyId;
        string accessKeyId;
        using (var first = await SampleHost.StartAsync(_data))
        {
            Assert.Contains("aws --endpoint-url " + first.Url + " kms create-key", first.Output, StringComparison.Ordinal);
            accessKeyId = first.AccessKeyId;
            using var client = first.Client();
            var key = await client.CreateKeyAsync(new Aws.CreateKeyRequest { Description = "sample" }, Ct);
            keyId = key.KeyMetadata.KeyId;
            Assert.StartsWith("arn:aws:kms:us-east-1:111122223333:key/", key.KeyMetadata.Arn, StringComparison.Ordinal);
            var ciphertext = (await client.EncryptAsync(new Aws.EncryptRequest { KeyId = keyId, Plaintext = new MemoryStream("hello"u8.ToArray()) }, Ct)).CiphertextBlob;
            var plaintext = (await client.DecryptAsync(new Aws.DecryptRequest { CiphertextBlob = ciphertext }, Ct)).Plaintext;
            Assert.Equal("hello", Encoding.UTF8.GetString(plaintext.ToArray()));

            using var stranger = first.Client(secret: "0000000000000000000000000000000000000000");
            var e = await Assert.ThrowsAnyAsync<AmazonKeyManagementServiceException>(() => stranger.ListKeysAsync(new Aws.ListKeysRequest(), Ct));
            Assert.Equal("InvalidSignatureException", e.ErrorCode);
        }

        using var second = await SampleHost.StartAsync(_data);
        Assert.Equal(accessKeyId, second.AccessKeyId);
        using var again = second.Client();
        Assert.Contains((await again.ListKeysAsync(new Aws.ListKeysRequest(), Ct)).Keys, k => k.KeyId == keyId);
    }

    /// <summary>The sample running as a child process; disposing it kills that process.</summary>
    private sealed class SampleHost : IDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _output = new();

        private SampleHost(Process process) => _process = process;

        public string Url { get; private set; } = "";

        public string AccessKeyId { get; private set; } = "";

        public string Secret { get; private set; } = "";

        public string Output
        {
            get
            {
                lock (_output)
                {
                    return _output.ToString();
                }
            }
        }

        public static async Task<SampleHost> StartAsync(string data)
        {
            var baseDirectory = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var repository = baseDirectory;
            while (repository is not null && !File.Exists(Path.Combine(repository.FullName, "EnvelopeKms.sln")))
            {
                repository = repository.Parent;
            }

            Assert.NotNull(repository);
            const string Name = "EnvelopeKms.Samples.KmsEndpoint";
            var assembly = Path.Combine(repository.FullName, "samples", Name, "bin", baseDirectory.Parent!.Name, baseDirectory.Name, Name + ".dll");
            Assert.True(File.Exists(assembly), $"The sample is not built at {assembly}; build the test project first.");

            var url = $"http://127.0.0.1:{FreePort()}";
            var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
            var start = new ProcessStartInfo(dotnet)
            {
                WorkingDirectory = data,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var argument in new[] { assembly, "--urls", url, "--data", data })
            {
                start.ArgumentList.Add(argument);
            }

            var process = Process.Start(start)!;
            var sample = new SampleHost(process);
            var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            process.OutputDataReceived += (_, e) => sample.Read(e.Data, ready);
            process.ErrorDataReceived += (_, e) => sample.Read(e.Data, null);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var exited = process.WaitForExitAsync(Ct);
            var finished = await Task.WhenAny(ready.Task, exited, Task.Delay(TimeSpan.FromMinutes(1), Ct));
            if (finished != ready.Task)
            {
                sample.Dispose();
                Assert.Fail($"The sample did not start listening:\n{sample.Output}");
            }

            Assert.Equal(url, sample.Url);
            return sample;
        }

        private void Read(string? line, TaskCompletionSource? ready)
        {
            if (line is null)
            {
                return;
            }

            lock (_output)
            {
                _output.AppendLine(line);
            }

            if (Value(line, "Endpoint:") is { } url)
            {
                Url = url;
            }
            else if (Value(line, "Access key id:") is { } id)
            {
                AccessKeyId = id;
            }
            else if (Value(line, "Secret access key:") is { } secret)
            {
                Secret = secret;
            }
            else if (line.StartsWith("Listening.", StringComparison.Ordinal))
            {
                ready?.TrySetResult();
            }
        }

        private static string? Value(string line, string label)
            => line.StartsWith(label, StringComparison.Ordinal) ? line[label.Length..].Trim() : null;

        public AmazonKeyManagementServiceClient Client(string? secret = null)
            => new(new BasicAWSCredentials(AccessKeyId, secret ?? Secret), new AmazonKeyManagementServiceConfig
            {
                ServiceURL = Url,
                AuthenticationRegion = "us-east-1",
                MaxErrorRetry = 0,
            });

        private static int FreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(TimeSpan.FromSeconds(30));
            }

            _process.Dispose();
        }
    }
}
