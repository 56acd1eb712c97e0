using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using EnvelopeKms.Auditing;
using EnvelopeKms.Envelope;
using EnvelopeKms.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace EnvelopeKms.Cli;

/// <summary>
/// The commands of <c>envelopekms</c>. Every command opens the key manager on the store and root key
/// the global options name (or the <c>ENVELOPEKMS_STORE</c> and <c>ENVELOPEKMS_ROOT_KEY</c> environment
/// variables), does one thing, and closes it. Output goes to <c>stdout</c>, progress and errors to <c>stderr</c>.
/// </summary>
internal static class EnvelopeKmsCli
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int Usage = 2;
    public const int ChainBroken = 3;

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, TextReader stdin, Func<string, string?> environment, CancellationToken cancellationToken = default)
    {
        var store = new Option<string?>("--store")
        {
            Description = "The key store: sqlite:<file>, file:<directory>, postgres:<connection string>, or a path (*.db is SQLite, else a directory). Default: $ENVELOPEKMS_STORE.",
            Recursive = true,
        };
        var rootKeyVariable = new Option<string>("--root-key-env")
        {
            Description = "The environment variable holding the base64 root key.",
            DefaultValueFactory = _ => "ENVELOPEKMS_ROOT_KEY",
            Recursive = true,
        };
        var developmentRootKey = new Option<string?>("--dev-root-key")
        {
            Description = "A development root key file (created when missing, owner-only); not for production.",
            Recursive = true,
        };

        var root = new RootCommand("envelopekms: operate an EnvelopeKms key store — keys, files, imported material, configuration values, audit trails.")
        {
            store, rootKeyVariable, developmentRootKey,
        };

        var session = new SessionFactory(store, rootKeyVariable, developmentRootKey, environment);
        root.Subcommands.Add(KeyCommands.Create(session, stdout));
        root.Subcommands.Add(KeyCommands.List(session, stdout));
        root.Subcommands.Add(KeyCommands.Describe(session, stdout));
        root.Subcommands.Add(KeyCommands.Rotate(session, stdout));
        root.Subcommands.Add(KeyCommands.Enable(session, stdout));
        root.Subcommands.Add(KeyCommands.Disable(session, stdout));
        root.Subcommands.Add(KeyCommands.ScheduleDeletion(session, stdout));
        root.Subcommands.Add(KeyCommands.CancelDeletion(session, stdout));
        root.Subcommands.Add(FileCommands.Encrypt(session, stdout, stderr));
        root.Subcommands.Add(FileCommands.Decrypt(session, stdout, stderr));
        root.Subcommands.Add(ImportCommand.Create(session, stdout));
        root.Subcommands.Add(ConfigCommands.Create(session, stdout, stdin));
        root.Subcommands.Add(AuditCommands.Create(stdout));

        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors)
            {
                await stderr.WriteLineAsync($"usage: {error.Message}").ConfigureAwait(false);
            }

            return Usage;
        }

        try
        {
            return await parsed.InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false }, cancellationToken).ConfigureAwait(false);
        }
        catch (KmsException e)
        {
            await stderr.WriteLineAsync($"error: {e.ErrorCode}: {e.Message}").ConfigureAwait(false);
            return Failed;
        }
        catch (CliUsageException e)
        {
            await stderr.WriteLineAsync($"usage: {e.Message}").ConfigureAwait(false);
            return Usage;
        }
        catch (IOException e)
        {
            await stderr.WriteLineAsync($"error: {e.Message}").ConfigureAwait(false);
            return Failed;
        }
    }
}

/// <summary>A command line that names no store or root key, or a malformed value: exit code 2.</summary>
internal sealed class CliUsageException(string message) : Exception(message);

/// <summary>Opens the key manager the global options describe.</summary>
internal sealed class SessionFactory(Option<string?> store, Option<string> rootKeyVariable, Option<string?> developmentRootKey, Func<string, string?> environment)
{
    public KeyManager Open(ParseResult parse)
    {
        var storeValue = parse.GetValue(store) ?? environment("ENVELOPEKMS_STORE")
            ?? throw new CliUsageException("no key store: give --store (sqlite:<file>, file:<directory>, postgres:<connection string>) or set ENVELOPEKMS_STORE.");
        var devKey = parse.GetValue(developmentRootKey);
        string? rootKey = null;
        if (devKey is null)
        {
            var variable = parse.GetValue(rootKeyVariable)!;
            rootKey = environment(variable)
                ?? throw new CliUsageException($"no root key: set {variable} to the base64 root key, or give --dev-root-key <file> for development.");
        }

        return KeyManagerFactory.Create(builder =>
        {
            if (storeValue.StartsWith("sqlite:", StringComparison.Ordinal))
            {
                builder.PersistKeysToSqlite(storeValue["sqlite:".Length..]);
            }
            else if (storeValue.StartsWith("file:", StringComparison.Ordinal))
            {
                builder.PersistKeysToFileSystem(storeValue["file:".Length..]);
            }
            else if (storeValue.StartsWith("postgres:", StringComparison.Ordinal))
            {
                builder.PersistKeysToPostgreSql(storeValue["postgres:".Length..]);
            }
            else if (storeValue.EndsWith(".db", StringComparison.OrdinalIgnoreCase) || storeValue.EndsWith(".sqlite", StringComparison.OrdinalIgnoreCase))
            {
                builder.PersistKeysToSqlite(storeValue);
            }
            else
            {
                builder.PersistKeysToFileSystem(storeValue);
            }

            if (devKey is not null)
            {
                builder.ProtectKeysWithDevelopmentRootKey(devKey);
            }
            else
            {
                builder.ProtectKeysWithRootKey(rootKey!);
            }
        });
    }
}

/// <summary>Key lifecycle commands.</summary>
internal static class KeyCommands
{
    private static Argument<string> KeyArgument() => new("key") { Description = "The key: key id, key ARN, alias name (alias/...) or alias ARN." };

    public static Command Create(SessionFactory session, TextWriter stdout)
    {
        var description = new Option<string?>("--description") { Description = "A description of up to 8192 characters." };
        var spec = new Option<string>("--key-spec") { Description = "The key spec, as KMS names it.", DefaultValueFactory = _ => "SYMMETRIC_DEFAULT" };
        var usage = new Option<string?>("--key-usage") { Description = "ENCRYPT_DECRYPT, SIGN_VERIFY, GENERATE_VERIFY_MAC, KEY_AGREEMENT or ENCAPSULATE_DECAPSULATE; the spec's usual one by default." };
        var origin = new Option<string>("--origin") { Description = "AWS_KMS, or EXTERNAL for a key that waits for imported material.", DefaultValueFactory = _ => "AWS_KMS" };
        var alias = new Option<string?>("--alias") { Description = "An alias to point at the new key (alias/...)." };
        var command = new Command("create", "Create a key (CreateKey), optionally with an alias.") { description, spec, usage, origin, alias };
        command.SetAction(async (parse, ct) =>
        {
            var keySpec = KmsNames.ParseKeySpec(parse.GetValue(spec)!);
            var request = new CreateKeyRequest
            {
                Description = parse.GetValue(description),
                KeySpec = keySpec,
                KeyUsage = parse.GetValue(usage) is { } u ? ParseName<KeyUsage>(u, "KeyUsage", static v => v.ToKmsName()) : DefaultUsage(keySpec),
                Origin = ParseName<KeyOrigin>(parse.GetValue(origin)!, "Origin", static v => v.ToKmsName()),
            };
            using var kms = session.Open(parse);
            var key = (await kms.CreateKeyAsync(request, ct).ConfigureAwait(false)).KeyMetadata;
            if (parse.GetValue(alias) is { } aliasName)
            {
                await kms.CreateAliasAsync(new CreateAliasRequest { AliasName = aliasName, TargetKeyId = key.KeyId }, ct).ConfigureAwait(false);
            }

            await stdout.WriteLineAsync(key.KeyId).ConfigureAwait(false);
            return EnvelopeKmsCli.Ok;
        });
        return command;
    }

    public static Command List(SessionFactory session, TextWriter stdout)
    {
        var command = new Command("list", "List every key with its state, spec and aliases.");
        command.SetAction(async (parse, ct) =>
        {
            using var kms = session.Open(parse);
            var aliases = new Dictionary<string, List<string>>(StringComparer.Ordinal);
            string? marker = null;
            do
            {
                var page = await kms.ListAliasesAsync(new ListAliasesRequest { Marker = marker, Limit = 100 }, ct).ConfigureAwait(false);
                foreach (var entry in page.Items)
                {
                    (aliases.TryGetValue(entry.TargetKeyId, out var list) ? list : aliases[entry.TargetKeyId] = []).Add(entry.AliasName);
                }

                marker = page.NextMarker;
            }
            while (marker is not null);

            await stdout.WriteLineAsync($"{"KEY ID",-36}  {"STATE",-16}  {"SPEC",-22}  ALIASES").ConfigureAwait(false);
            do
            {
                var page = await kms.ListKeysAsync(new ListKeysRequest { Marker = marker, Limit = 100 }, ct).ConfigureAwait(false);
                foreach (var entry in page.Items)
                {
                    var key = (await kms.DescribeKeyAsync(new DescribeKeyRequest { KeyId = entry.KeyId }, ct).ConfigureAwait(false)).KeyMetadata;
                    var names = aliases.TryGetValue(entry.KeyId, out var list) ? string.Join(", ", list) : "";
                    await stdout.WriteLineAsync($"{key.KeyId,-36}  {key.KeyState.ToKmsName(),-16}  {key.KeySpec.ToKmsName(),-22}  {names}").ConfigureAwait(false);
                }

                marker = page.NextMarker;
            }
            while (marker is not null);

            return EnvelopeKmsCli.Ok;
        });
        return command;
    }

    public static Command Describe(SessionFactory session, TextWriter stdout)
    {
        var key = KeyArgument();
        var command = new Command("describe", "Describe a key (DescribeKey) and its rotation status.") { key };
        command.SetAction(async (parse, ct) =>
        {
            using var kms = session.Open(parse);
            var metadata = (await kms.DescribeKeyAsync(new DescribeKeyRequest { KeyId = parse.GetValue(key)! }, ct).ConfigureAwait(false)).KeyMetadata;
            var lines = new List<(string, string?)>
            {
                ("KeyId", metadata.KeyId),
                ("Arn", metadata.Arn),
                ("Description", metadata.Description),
                ("KeyState", metadata.KeyState.ToKmsName()),
                ("KeySpec", metadata.KeySpec.ToKmsName()),
                ("KeyUsage", metadata.KeyUsage.ToKmsName()),
                ("Origin", metadata.Origin.ToKmsName()),
                ("KeyManager", metadata.KeyManager.ToKmsName()),
                ("CreationDate", metadata.CreationDate.ToString("O", CultureInfo.InvariantCulture)),
                ("CurrentKeyMaterialId", metadata.CurrentKeyMaterialId),
                ("DeletionDate", metadata.DeletionDate?.ToString("O", CultureInfo.InvariantCulture)),
            };
            if (metadata.KeySpec == KeySpec.SymmetricDefault && metadata.Origin == KeyOrigin.AwsKms && metadata.KeyState is KeyState.Enabled or KeyState.Disabled)
            {
                var rotation = await kms.GetKeyRotationStatusAsync(new GetKeyRotationStatusRequest { KeyId = metadata.KeyId }, ct).ConfigureAwait(false);
                lines.Add(("KeyRotationEnabled", rotation.KeyRotationEnabled ? "true" : "false"));
                lines.Add(("NextRotationDate", rotation.NextRotationDate?.ToString("O", CultureInfo.InvariantCulture)));
            }

            foreach (var (name, value) in lines.Where(l => l.Item2 is not null))
            {
                await stdout.WriteLineAsync($"{name,-22} {value}").ConfigureAwait(false);
            }

            return EnvelopeKmsCli.Ok;
        });
        return command;
    }

    public static Command Rotate(SessionFactory session, TextWriter stdout)
    {
        var key = KeyArgument();
        var command = new Command("rotate", "Rotate a key's material now (RotateKeyOnDemand).") { key };
        command.SetAction(async (parse, ct) =>
        {
            using var kms = session.Open(parse);
            var keyId = (await kms.RotateKeyOnDemandAsync(new RotateKeyOnDemandRequest { KeyId = await ResolveAsync(kms, parse.GetValue(key)!, ct).ConfigureAwait(false) }, ct).ConfigureAwait(false)).KeyId;
            var current = (await kms.DescribeKeyAsync(new DescribeKeyRequest { KeyId = keyId }, ct).ConfigureAwait(false)).KeyMetadata.CurrentKeyMaterialId;
            await stdout.WriteLineAsync($"rotated {keyId}; current material {current}").ConfigureAwait(false);
            return EnvelopeKmsCli.Ok;
        });
        return command;
    }

    public static Command Enable(SessionFactory session, TextWriter stdout) => Simple("enable", "Enable a key (EnableKey).", session, stdout,
        static (kms, key, ct) => kms.EnableKeyAsync(new EnableKeyRequest { KeyId = key }, ct), "enabled");

    public static Command Disable(SessionFactory session, TextWriter stdout) => Simple("disable", "Disable a key (DisableKey).", session, stdout,
        static (kms, key, ct) => kms.DisableKeyAsync(new DisableKeyRequest { KeyId = key }, ct), "disabled");

    public static Command CancelDeletion(SessionFactory session, TextWriter stdout) => Simple("cancel-deletion", "Cancel a scheduled deletion (CancelKeyDeletion); the key is then disabled.", session, stdout,
        static (kms, key, ct) => kms.CancelKeyDeletionAsync(new CancelKeyDeletionRequest { KeyId = key }, ct), "deletion cancelled (the key is disabled) for");

    public static Command ScheduleDeletion(SessionFactory session, TextWriter stdout)
    {
        var key = KeyArgument();
        var days = new Option<int?>("--days") { Description = "The waiting period, 7–30 days (30 by default)." };
        var command = new Command("schedule-deletion", "Schedule a key's deletion (ScheduleKeyDeletion).") { key, days };
        command.SetAction(async (parse, ct) =>
        {
            using var kms = session.Open(parse);
            var response = await kms.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = await ResolveAsync(kms, parse.GetValue(key)!, ct).ConfigureAwait(false), PendingWindowInDays = parse.GetValue(days) }, ct).ConfigureAwait(false);
            await stdout.WriteLineAsync($"{response.KeyId} will be deleted on {response.DeletionDate:O}").ConfigureAwait(false);
            return EnvelopeKmsCli.Ok;
        });
        return command;
    }

    private static Command Simple(string name, string description, SessionFactory session, TextWriter stdout, Func<IKeyManager, string, CancellationToken, Task> action, string done)
    {
        var key = KeyArgument();
        var command = new Command(name, description) { key };
        command.SetAction(async (parse, ct) =>
        {
            using var kms = session.Open(parse);
            var keyId = await ResolveAsync(kms, parse.GetValue(key)!, ct).ConfigureAwait(false);
            await action(kms, keyId, ct).ConfigureAwait(false);
            await stdout.WriteLineAsync($"{done} {keyId}").ConfigureAwait(false);
            return EnvelopeKmsCli.Ok;
        });
        return command;
    }

    /// <summary>
    /// The key id of a key named by id, ARN, alias or alias ARN. Some operations (EnableKey, DisableKey,
    /// RotateKeyOnDemand, ScheduleKeyDeletion, CancelKeyDeletion) take only a key id or ARN, as in KMS;
    /// the tool lets operators name keys by alias and resolves it first (DescribeKey, audited).
    /// </summary>
    private static async Task<string> ResolveAsync(KeyManager kms, string key, CancellationToken cancellationToken)
        => key.StartsWith("alias/", StringComparison.Ordinal) || key.Contains(":alias/", StringComparison.Ordinal)
            ? (await kms.DescribeKeyAsync(new DescribeKeyRequest { KeyId = key }, cancellationToken).ConfigureAwait(false)).KeyMetadata.KeyId
            : key;

    private static KeyUsage DefaultUsage(KeySpec spec) => spec.ToKmsName() switch
    {
        var s when s.StartsWith("HMAC_", StringComparison.Ordinal) => KeyUsage.GenerateVerifyMac,
        var s when s.StartsWith("ML_DSA_", StringComparison.Ordinal) || s.StartsWith("ECC_", StringComparison.Ordinal) => KeyUsage.SignVerify,
        var s when s.StartsWith("ML_KEM_", StringComparison.Ordinal) => KeyUsage.EncapsulateDecapsulate,
        _ => KeyUsage.EncryptDecrypt,
    };

    public static T ParseName<T>(string name, string what, Func<T, string> toName)
        where T : struct, Enum
    {
        foreach (var value in Enum.GetValues<T>())
        {
            if (string.Equals(toName(value), name, StringComparison.Ordinal))
            {
                return value;
            }
        }

        throw new KmsValidationException($"'{name}' is not a valid {what}; expected one of {string.Join(", ", Enum.GetValues<T>().Select(toName))}.");
    }
}

/// <summary>File encryption with progress.</summary>
internal static class FileCommands
{
    public static Command Encrypt(SessionFactory session, TextWriter stdout, TextWriter stderr)
    {
        var key = new Option<string>("--key") { Description = "The KMS key: key id, key ARN, alias name or alias ARN.", Required = true };
        var context = new Option<string[]>("--context") { Description = "An encryption-context pair name=value (repeatable)." };
        var input = new Argument<FileInfo>("input") { Description = "The file to encrypt." };
        var output = new Argument<FileInfo>("output") { Description = "Where the streaming envelope goes (written whole or not at all)." };
        var command = new Command("encrypt", "Encrypt a file of any size with envelope encryption (streaming, constant memory).") { key, context, input, output };
        command.SetAction(async (parse, ct) =>
        {
            var pairs = ParseContext(parse.GetValue(context) ?? []);
            using var kms = session.Open(parse);
            using var envelopes = new EnvelopeEncryptor(kms);
            var source = parse.GetValue(input)!;
            await WriteAtomicallyAsync(parse.GetValue(output)!, async destination =>
            {
                var from = source.OpenRead();
                await using var fromScope = from.ConfigureAwait(false);
                await envelopes.EncryptAsync(parse.GetValue(key)!, from, destination, pairs, new ConsoleProgress(stderr, source.Length), ct).ConfigureAwait(false);
            }).ConfigureAwait(false);
            await stdout.WriteLineAsync($"encrypted {source.Name} ({source.Length} bytes)").ConfigureAwait(false);
            return EnvelopeKmsCli.Ok;
        });
        return command;
    }

    public static Command Decrypt(SessionFactory session, TextWriter stdout, TextWriter stderr)
    {
        var input = new Argument<FileInfo>("input") { Description = "A file made by 'envelopekms encrypt'." };
        var output = new Argument<FileInfo>("output") { Description = "Where the plaintext goes (written whole, after every segment authenticated, or not at all)." };
        var command = new Command("decrypt", "Decrypt a file made by 'envelopekms encrypt'.") { input, output };
        command.SetAction(async (parse, ct) =>
        {
            using var kms = session.Open(parse);
            using var envelopes = new EnvelopeEncryptor(kms);
            var source = parse.GetValue(input)!;
            await WriteAtomicallyAsync(parse.GetValue(output)!, async destination =>
            {
                var from = source.OpenRead();
                await using var fromScope = from.ConfigureAwait(false);
                await envelopes.DecryptAsync(from, destination, new ConsoleProgress(stderr, source.Length), ct).ConfigureAwait(false);
            }).ConfigureAwait(false);
            await stdout.WriteLineAsync($"decrypted {source.Name}").ConfigureAwait(false);
            return EnvelopeKmsCli.Ok;
        });
        return command;
    }

    internal static Dictionary<string, string> ParseContext(string[] pairs)
    {
        var context = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in pairs)
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new CliUsageException($"--context '{pair}' is not name=value.");
            }

            if (!context.TryAdd(pair[..equals], pair[(equals + 1)..]))
            {
                throw new CliUsageException($"--context names '{pair[..equals]}' twice.");
            }
        }

        return context;
    }

    /// <summary>Writes to a temporary file beside <paramref name="output"/> and renames it over the output only when the write succeeded.</summary>
    private static async Task WriteAtomicallyAsync(FileInfo output, Func<Stream, Task> write)
    {
        var temp = output.FullName + "." + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)) + ".partial";
        try
        {
            var destination = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
            await using (destination.ConfigureAwait(false))
            {
                await write(destination).ConfigureAwait(false);
                await destination.FlushAsync().ConfigureAwait(false);
            }

            File.Move(temp, output.FullName, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>Progress on stderr, at most once per whole percent.</summary>
    private sealed class ConsoleProgress(TextWriter stderr, long total) : IProgress<long>
    {
        private int _lastPercent = -1;

        public void Report(long value)
        {
            var percent = total <= 0 ? 100 : (int)Math.Min(100, value * 100 / total);
            if (percent != _lastPercent)
            {
                _lastPercent = percent;
                stderr.Write($"\r{percent,3}% ({value} of {total} bytes)");
                if (percent == 100)
                {
                    stderr.WriteLine();
                }
            }
        }
    }
}

/// <summary>Importing key material from a file.</summary>
internal static class ImportCommand
{
    public static Command Create(SessionFactory session, TextWriter stdout)
    {
        var key = new Argument<string>("key") { Description = "A key of origin EXTERNAL." };
        var material = new Option<FileInfo>("--material") { Description = "The raw key material: 32 bytes for SYMMETRIC_DEFAULT, the HMAC key, or a DER PKCS#8 private key.", Required = true };
        var validTo = new Option<DateTimeOffset?>("--valid-to") { Description = "When the material expires (ISO 8601, at most 365 days ahead); without it the material does not expire." };
        var command = new Command("import", "Import key material (GetParametersForImport, wrap with RSAES_OAEP_SHA_256 under RSA_4096, ImportKeyMaterial).") { key, material, validTo };
        command.SetAction(async (parse, ct) =>
        {
            var file = parse.GetValue(material)!;
            if (file.Length is 0 or > 446)
            {
                throw new CliUsageException($"the material file '{file.Name}' has {file.Length} bytes; this command imports 1 to 446 bytes (the RSAES_OAEP_SHA_256 limit under RSA_4096). For larger material (RSA private keys), follow the openssl RSA_AES_KEY_WRAP_SHA_256 recipe in docs/import.md.");
            }

            using var kms = session.Open(parse);
            var keyId = parse.GetValue(key)!;
            var parameters = await kms.GetParametersForImportAsync(new GetParametersForImportRequest
            {
                KeyId = keyId,
                WrappingAlgorithm = ImportWrappingAlgorithm.RsaesOaepSha256,
                WrappingKeySpec = WrappingKeySpec.Rsa4096,
            }, ct).ConfigureAwait(false);
            var plaintext = await File.ReadAllBytesAsync(file.FullName, ct).ConfigureAwait(false);
            byte[] wrapped;
            try
            {
                using var rsa = RSA.Create();
                rsa.ImportSubjectPublicKeyInfo(parameters.PublicKey, out _);
                wrapped = rsa.Encrypt(plaintext, RSAEncryptionPadding.OaepSHA256);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(plaintext);
            }

            var expires = parse.GetValue(validTo);
            await kms.ImportKeyMaterialAsync(new ImportKeyMaterialRequest
            {
                KeyId = keyId,
                ImportToken = parameters.ImportToken,
                EncryptedKeyMaterial = wrapped,
                ExpirationModel = expires is null ? ExpirationModel.KeyMaterialDoesNotExpire : ExpirationModel.KeyMaterialExpires,
                ValidTo = expires,
            }, ct).ConfigureAwait(false);
            var current = (await kms.DescribeKeyAsync(new DescribeKeyRequest { KeyId = keyId }, ct).ConfigureAwait(false)).KeyMetadata;
            await stdout.WriteLineAsync($"imported material {current.CurrentKeyMaterialId} into {current.KeyId}; state {current.KeyState.ToKmsName()}{(expires is { } e ? $", expires {e:O}" : "")}").ConfigureAwait(false);
            return EnvelopeKmsCli.Ok;
        });
        return command;
    }
}

/// <summary>Encrypted configuration values.</summary>
internal static class ConfigCommands
{
    public static Command Create(SessionFactory session, TextWriter stdout, TextReader stdin)
    {
        var key = new Option<string>("--key") { Description = "The KMS key.", Required = true };
        var name = new Option<string>("--name") { Description = "The configuration key the value is for, e.g. ConnectionStrings:Orders.", Required = true };
        var value = new Option<string?>("--value") { Description = "The secret; read from stdin when omitted (keeps it out of shell history)." };
        var encrypt = new Command("encrypt", "Print ENC[EnvelopeKms,v1,...] for appsettings.json, bound to its configuration key.") { key, name, value };
        encrypt.SetAction(async (parse, ct) =>
        {
            var secret = parse.GetValue(value) ?? (await stdin.ReadToEndAsync(ct).ConfigureAwait(false)).TrimEnd('\r', '\n');
            using var kms = session.Open(parse);
            await stdout.WriteLineAsync(await EnvelopeKmsConfigurationValues.EncryptAsync(kms, parse.GetValue(key)!, parse.GetValue(name)!, secret, ct).ConfigureAwait(false)).ConfigureAwait(false);
            return EnvelopeKmsCli.Ok;
        });
        return new Command("config", "Encrypted configuration values.") { encrypt };
    }
}

/// <summary>Audit trail verification.</summary>
internal static class AuditCommands
{
    public static Command Create(TextWriter stdout)
    {
        var path = new Argument<string>("path") { Description = "The JSON Lines audit trail (its first file; rotated files and the head file are found beside it)." };
        var verify = new Command("verify", "Verify an audit trail's hash chain; exit code 3 when it is broken.") { path };
        verify.SetAction(async (parse, ct) =>
        {
            var result = await AuditChainVerifier.VerifyAsync(parse.GetValue(path)!, ct).ConfigureAwait(false);
            if (result.IsIntact)
            {
                await stdout.WriteLineAsync($"intact: {result.RecordsChecked} records").ConfigureAwait(false);
                return EnvelopeKmsCli.Ok;
            }

            await stdout.WriteLineAsync($"BROKEN at sequence {result.FirstBrokenSequence} ({result.File}:{result.LineNumber}): {result.Problem}").ConfigureAwait(false);
            return EnvelopeKmsCli.ChainBroken;
        });
        return new Command("audit", "Audit trail tools.") { verify };
    }
}
