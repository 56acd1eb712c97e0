// EnvelopeKms multi-instance: two key-manager instances, in two processes, on one key store.
//
//   dotnet run --project samples/EnvelopeKms.Samples.MultiInstance [-- --store sqlite:<path>] [--root-key <file>]
//   dotnet run --project samples/EnvelopeKms.Samples.MultiInstance -- --store "postgres:Host=localhost;Database=kms;Username=app"
//
// Instance A (this process) creates the store and a key and encrypts a secret. It then starts
// instance B, a second copy of this program, which opens its own KeyManager on the same store with
// the same root key and decrypts A's ciphertext. A disables the key: B's next Encrypt fails at once,
// because a KeyManager reads the key's state from the store on every call. B's envelope encryptor,
// which encrypts with a cached data key without calling the KeyManager, drops that data key when the
// store's change feed reports A's change (SQLite: polled every 200 ms here; PostgreSQL: LISTEN/NOTIFY);
// B waits for that report and prints how long after A's DisableKey it came. A re-enables the key and B
// encrypts again. The two processes talk over B's standard input and output, one line per step.
//
// Defaults: the SQLite database .multi-instance/keys.db and the development root key file
// .multi-instance/development-root.key under the current directory. Both instances must use the same
// root key; a production deployment hands it to every instance from its secret store instead.

using System.Diagnostics;
using System.Globalization;
using System.Text;
using EnvelopeKms;
using EnvelopeKms.Envelope;
using EnvelopeKms.Protection;
using EnvelopeKms.Storage;

const string InstanceBRole = "instance-b";
const string Usage = "Usage: EnvelopeKms.Samples.MultiInstance [--store sqlite:<path> | --store postgres:<Npgsql connection string>] [--root-key <development root key file>]";

var isInstanceB = args.Length > 0 && args[0] == InstanceBRole;
var options = isInstanceB ? args[1..] : args;
string storeArgument = "sqlite:" + Path.Combine(".multi-instance", "keys.db");
string rootKeyPath = Path.Combine(".multi-instance", "development-root.key");
for (var i = 0; i < options.Length; i++)
{
    switch (options[i])
    {
        case "--store" when i + 1 < options.Length:
            storeArgument = options[++i];
            break;
        case "--root-key" when i + 1 < options.Length:
            rootKeyPath = options[++i];
            break;
        default:
            Console.Error.WriteLine(Usage);
            return 2;
    }
}

if (KeyStoreOption.Parse(storeArgument) is not { } store)
{
    Console.Error.WriteLine($"Unknown store '{storeArgument}'. {Usage}");
    return 2;
}

rootKeyPath = Path.GetFullPath(rootKeyPath);
return isInstanceB
    ? await InstanceB.RunAsync(store, rootKeyPath)
    : await InstanceA.RunAsync(store, rootKeyPath);

/// <summary>Opens one key-manager instance; every instance opens its own store object on the shared store.</summary>
internal static class Instances
{
    public static readonly Dictionary<string, string> Context = new() { ["app"] = "multi-instance", ["purpose"] = "demo" };

    public static (KeyManager Kms, IKeyStore Store) Open(KeyStoreOption store, string rootKeyPath)
    {
        var keyStore = store.Open();
        return (new KeyManager(keyStore, new DevelopmentRootKeyProvider(rootKeyPath)), keyStore);
    }

    /// <summary>Stops the store's background work (a change-feed watcher), if it has any.</summary>
    public static async ValueTask CloseAsync(KeyManager kms, IKeyStore store)
    {
        kms.Dispose();
        switch (store)
        {
            case IAsyncDisposable asyncDisposable:
                await asyncDisposable.DisposeAsync();
                break;
            case IDisposable disposable:
                disposable.Dispose();
                break;
        }
    }
}

/// <summary>The first process: owns the key's life cycle and drives instance B.</summary>
internal static class InstanceA
{
    public static async Task<int> RunAsync(KeyStoreOption store, string rootKeyPath)
    {
        Console.WriteLine("EnvelopeKms: two key-manager instances on one key store");
        Console.WriteLine("========================================================");
        Console.WriteLine($"Key store:            {store.Description} (both instances; {store.ChangeFeed})");
        Console.WriteLine($"Development root key: {rootKeyPath} (both instances)");

        var (kms, keyStore) = Instances.Open(store, rootKeyPath);
        Process? instanceB = null;
        try
        {
            Step(1, "Instance A creates a key and encrypts a secret");
            var key = (await kms.CreateKeyAsync(new CreateKeyRequest { Description = "Multi-instance demo key" })).KeyMetadata;
            Say($"CreateKey:   {key.KeyId}");
            var secret = "shared secret from instance A";
            var ciphertext = await kms.EncryptAsync(key.KeyId, Encoding.UTF8.GetBytes(secret), Instances.Context);
            Say($"Encrypt:     \"{secret}\" -> {ciphertext.Length}-byte ciphertext");

            Step(2, "Instance B starts in a second process and opens its own KeyManager on the same store");
            instanceB = StartInstanceB(store, rootKeyPath);
            Say($"Started:     process {instanceB.Id}");
            await ExchangeAsync(instanceB, null);

            Step(3, "Instance B decrypts A's ciphertext and encrypts envelopes with a cached data key");
            await ExchangeAsync(instanceB, $"decrypt {key.KeyId} {Convert.ToBase64String(ciphertext)}");

            Step(4, "Instance A disables the key; instance B is refused");
            await kms.DisableKeyAsync(new DisableKeyRequest { KeyId = key.KeyId });
            var disabledAt = TimeProvider.System.GetUtcNow(); // committed: B measures its notification delay from here
            Say($"DisableKey:  {(await kms.DescribeKeyAsync(key.KeyId)).KeyState.ToKmsName()}");
            await ExchangeAsync(instanceB, $"disabled {disabledAt.UtcTicks.ToString(CultureInfo.InvariantCulture)}");

            Step(5, "Instance A re-enables the key; instance B encrypts again");
            await kms.EnableKeyAsync(new EnableKeyRequest { KeyId = key.KeyId });
            Say($"EnableKey:   {(await kms.DescribeKeyAsync(key.KeyId)).KeyState.ToKmsName()}");
            await ExchangeAsync(instanceB, "enabled");

            Step(6, "Instance B stops; instance A schedules the demo key for deletion");
            await ExchangeAsync(instanceB, "exit");
            await instanceB.WaitForExitAsync();
            Say($"Instance B exited with {instanceB.ExitCode}.");
            var deletion = await kms.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = key.KeyId, PendingWindowInDays = 7 });
            Say($"ScheduleKeyDeletion: {deletion.KeyState.ToKmsName()}, deleted after {deletion.DeletionDate:u}");

            Console.WriteLine();
            Console.WriteLine("Done. Every KeyManager call of either instance saw the other's changes as soon as they were committed,");
            Console.WriteLine("and B's envelope encryptor dropped its cached data key when the store's change feed reported A's change.");
            return instanceB.ExitCode == 0 ? 0 : 1;
        }
        catch (KmsException e)
        {
            Console.WriteLine();
            Console.WriteLine($"The sample stopped: {e.ErrorCode}: {e.Message}");
            return 1;
        }
        catch (InstanceBFailedException e)
        {
            Console.WriteLine();
            Console.WriteLine($"The sample stopped: {e.Message}");
            return 1;
        }
        finally
        {
            if (instanceB is { HasExited: false })
            {
                instanceB.Kill(entireProcessTree: true);
            }

            instanceB?.Dispose();
            await Instances.CloseAsync(kms, keyStore);
        }
    }

    /// <summary>Starts this program again, the same way it was started (apphost or <c>dotnet</c> with the assembly).</summary>
    private static Process StartInstanceB(KeyStoreOption store, string rootKeyPath)
    {
        var host = Environment.ProcessPath ?? throw new InvalidOperationException("The path of this process is unknown.");
        var start = new ProcessStartInfo(host)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (Path.GetFileNameWithoutExtension(host).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            start.ArgumentList.Add(typeof(InstanceA).Assembly.Location);
        }

        foreach (var argument in new[] { "instance-b", "--store", store.Argument, "--root-key", rootKeyPath })
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start) ?? throw new InvalidOperationException("Instance B did not start.");
    }

    /// <summary>Sends one command (none: just wait for B to be ready) and shows B's lines until B reports the step done.</summary>
    private static async Task ExchangeAsync(Process instanceB, string? command)
    {
        if (command is not null)
        {
            await instanceB.StandardInput.WriteLineAsync(command);
            await instanceB.StandardInput.FlushAsync();
        }

        while (await instanceB.StandardOutput.ReadLineAsync() is { } line)
        {
            if (line == Protocol.Done)
            {
                return;
            }

            Console.WriteLine($"   [B] {line}");
        }

        await instanceB.WaitForExitAsync();
        var errors = await instanceB.StandardError.ReadToEndAsync();
        throw new InstanceBFailedException($"instance B exited with {instanceB.ExitCode} during '{command ?? "start"}'.{(errors.Length > 0 ? "\n" + errors : "")}");
    }

    private static void Say(string line) => Console.WriteLine($"   [A] {line}");

    private static void Step(int number, string title)
    {
        Console.WriteLine();
        Console.WriteLine($"{number}. {title}");
    }
}

/// <summary>The second process: its own KeyManager and envelope encryptor on the shared store, driven by A.</summary>
internal static class InstanceB
{
    /// <summary>How long B waits for the store to report A's change before it gives up.</summary>
    private static readonly TimeSpan ChangeFeedDeadline = TimeSpan.FromSeconds(10);

    public static async Task<int> RunAsync(KeyStoreOption store, string rootKeyPath)
    {
        var (kms, keyStore) = Instances.Open(store, rootKeyPath);

        // The envelope encryptor subscribes to KeyManager.KeyChanged: a change reported by the store's
        // change feed evicts the key's cached data keys. No short MaxDataKeyAge is needed for that.
        using var envelopes = new EnvelopeEncryptor(kms);

        // Changes made by other instances arrive as KeyChanged with no operation (the envelope
        // encryptor, subscribed first, has evicted the key's data keys when this handler runs). The
        // handler notes when the report arrived, to measure the delay after A's write.
        string? keyId = null;
        var changedByOthers = new TaskCompletionSource<(string? KeyId, DateTimeOffset At)>(TaskCreationOptions.RunContinuationsAsynchronously);
        kms.KeyChanged += (_, e) =>
        {
            if (e.Operation is null && (e.IsReset || e.KeyId == Volatile.Read(ref keyId)))
            {
                changedByOthers.TrySetResult((e.KeyId, TimeProvider.System.GetUtcNow()));
            }
        };

        EnvelopeProtector? protector = null;
        try
        {
            if (keyStore is not IKeyStoreChangeNotifier)
            {
                throw new InvalidOperationException($"The {store.Description} reports no changes made by other instances.");
            }

            Say($"KeyManager opened on the shared store ({store.ChangeFeed}).");
            Console.WriteLine(Protocol.Done);
            while (Console.ReadLine() is { } command)
            {
                var parts = command.Split(' ');
                switch (parts[0])
                {
                    case "decrypt":
                        Volatile.Write(ref keyId, parts[1]);
                        using (var decrypted = await kms.DecryptAsync(new DecryptRequest { CiphertextBlob = Convert.FromBase64String(parts[2]), EncryptionContext = Instances.Context }))
                        {
                            Say($"Decrypt:     \"{Encoding.UTF8.GetString(decrypted.Plaintext)}\" (A's ciphertext, B's KeyManager)");
                        }

                        protector = envelopes.CreateProtector(parts[1], Instances.Context);
                        protector.Encrypt("first envelope from B"u8);
                        protector.Encrypt("second envelope from B"u8);
                        var statistics = envelopes.CacheStatistics;
                        Say($"Envelopes:   2 encrypted with {statistics.EncryptMisses} data key from GenerateDataKey, cached ({statistics.EncryptHits} cache hit)");
                        break;

                    case "disabled":
                        var disabledAt = new DateTimeOffset(long.Parse(parts[1], CultureInfo.InvariantCulture), TimeSpan.Zero);
                        await AfterDisableAsync(kms, envelopes, protector!, keyId!, disabledAt, changedByOthers.Task);
                        break;

                    case "enabled":
                        var ciphertext = await kms.EncryptAsync(keyId!, "after re-enabling"u8.ToArray(), Instances.Context);
                        Say($"Encrypt:     works again ({ciphertext.Length}-byte ciphertext); the state was read from the store");
                        var envelope = protector!.Encrypt("envelope after re-enabling"u8);
                        Say($"Envelope:    works again ({envelope.Length} bytes, under a new data key from GenerateDataKey)");
                        break;

                    case "exit":
                        Say("Stopping.");
                        Console.WriteLine(Protocol.Done);
                        return 0;

                    default:
                        Say($"Unknown command '{parts[0]}'.");
                        return 2;
                }

                Console.WriteLine(Protocol.Done);
            }

            return 1; // A went away without saying goodbye.
        }
        catch (KmsException e)
        {
            Say($"Stopped: {e.ErrorCode}: {e.Message}");
            return 1;
        }
        catch (InvalidOperationException e)
        {
            Say($"Stopped: {e.Message}");
            return 1;
        }
        finally
        {
            await Instances.CloseAsync(kms, keyStore);
        }
    }

    private static async Task AfterDisableAsync(
        KeyManager kms, EnvelopeEncryptor envelopes, EnvelopeProtector protector, string keyId, DateTimeOffset disabledAt, Task<(string? KeyId, DateTimeOffset At)> changedByOthers)
    {
        // 1. Direct calls: the KeyManager reads the key's state from the store on every call.
        Say($"DescribeKey: {(await kms.DescribeKeyAsync(keyId)).KeyState.ToKmsName()} (read from the store)");
        try
        {
            await kms.EncryptAsync(keyId, "one more secret"u8.ToArray(), Instances.Context);
            throw new InvalidOperationException("Encrypt under a key disabled by another instance succeeded.");
        }
        catch (KmsDisabledException e)
        {
            Say($"Encrypt:     {e.ErrorCode}: {e.Message}");
        }

        // 2. The envelope encryptor: encrypting with a cached data key calls no KMS, so the cached data
        //    key has to go before the state check can refuse the next one. The store's change feed
        //    reports A's DisableKey; the KeyManager relays it as KeyChanged and the envelope encryptor
        //    evicts the key's data keys. Wait for that report, up to a deadline.
        using (var deadline = new CancellationTokenSource(ChangeFeedDeadline))
        {
            try
            {
                await changedByOthers.WaitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new InvalidOperationException($"The store's change feed reported no change to key {keyId} within {ChangeFeedDeadline.TotalSeconds:0} s.");
            }
        }

        var (changedKey, reportedAt) = await changedByOthers;
        var delay = reportedAt - disabledAt; // both clocks are this machine's; a NOTIFY can even beat A's reply
        Say($"Change feed: the store reported the change to {(changedKey is null ? "its keys (a reset)" : "key " + changedKey)} {Math.Max(0, delay.TotalMilliseconds):0} ms after A's DisableKey returned;");
        Say($"             the cached data key was evicted ({envelopes.CacheStatistics.Evictions} evicted, {envelopes.CacheStatistics.Entries} cached)");

        // 3. Without a cached data key the protector asks the KeyManager for a new one: refused.
        try
        {
            protector.Encrypt("one more envelope"u8);
            throw new InvalidOperationException("An envelope under a key disabled by another instance was encrypted.");
        }
        catch (KmsDisabledException e)
        {
            Say($"Envelope:    {e.ErrorCode}: {e.Message} (no cached data key: GenerateDataKey was refused)");
        }
    }

    private static void Say(string line) => Console.WriteLine(line);
}

/// <summary>The line instance B writes when it finished a step (everything else it writes is narrative).</summary>
internal static class Protocol
{
    public const string Done = "@done";
}

/// <summary>Instance B stopped before the end of the story.</summary>
internal sealed class InstanceBFailedException(string message) : Exception(message);
