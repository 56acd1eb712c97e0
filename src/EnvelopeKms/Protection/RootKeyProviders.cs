using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using EnvelopeKms.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EnvelopeKms.Protection;

/// <summary>A 256-bit root key given directly (from configuration, an environment variable or a secret store).</summary>
public sealed class StaticRootKeyProvider : IRootKeyProvider, IDisposable
{
    private readonly byte[] _key = GC.AllocateArray<byte>(AesGcmRootKey.KeySize, pinned: true);

    /// <summary>Uses the given 32 bytes as the root key; the bytes are copied.</summary>
    /// <exception cref="KmsRootKeyException">The key is not 32 bytes.</exception>
    public StaticRootKeyProvider(ReadOnlySpan<byte> rootKey)
    {
        if (rootKey.Length != AesGcmRootKey.KeySize)
        {
            throw new KmsRootKeyException($"A root key must be {AesGcmRootKey.KeySize} bytes (256 bits); the one given has {rootKey.Length} bytes.");
        }

        rootKey.CopyTo(_key);
    }

    /// <summary>Reads a base64-encoded 256-bit root key.</summary>
    /// <param name="base64RootKey">The key, base64 encoded (44 characters).</param>
    /// <param name="source">Where the value came from, for error messages (never the value itself).</param>
    /// <exception cref="KmsRootKeyException">The value is missing, not base64, or not 32 bytes.</exception>
    public static StaticRootKeyProvider FromBase64(string? base64RootKey, string source = "the configured value")
    {
        if (string.IsNullOrWhiteSpace(base64RootKey))
        {
            throw new KmsRootKeyException($"No root key was found in {source}. Set it to 32 random bytes, base64 encoded (for example: openssl rand -base64 32).");
        }

        var buffer = GC.AllocateArray<byte>(64, pinned: true);
        try
        {
            if (!Convert.TryFromBase64String(base64RootKey.Trim(), buffer, out var written) || written != AesGcmRootKey.KeySize)
            {
                throw new KmsRootKeyException($"The root key in {source} must be 32 bytes, base64 encoded (for example: openssl rand -base64 32).");
            }

            return new StaticRootKeyProvider(buffer.AsSpan(0, written));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(buffer);
        }
    }

    /// <summary>Reads a base64-encoded 256-bit root key from an environment variable.</summary>
    /// <exception cref="KmsRootKeyException">The variable is not set or malformed.</exception>
    public static StaticRootKeyProvider FromEnvironment(string variable = "ENVELOPEKMS_ROOT_KEY")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(variable);
        return FromBase64(Environment.GetEnvironmentVariable(variable), $"the environment variable '{variable}'");
    }

    /// <inheritdoc />
    public ValueTask<RootKey> GetRootKeyAsync(string? storedParameters, CancellationToken cancellationToken)
        => ValueTask.FromResult<RootKey>(new AesGcmRootKey(_key, parameters: null));

    /// <summary>Zeroes the key.</summary>
    public void Dispose() => CryptographicOperations.ZeroMemory(_key);
}

/// <summary>
/// A root key derived from a passphrase with PBKDF2-HMAC-SHA256 and a random 256-bit salt. The salt
/// and the iteration count are recorded in the key store, so the same passphrase opens the store
/// later even if the default cost changes.
/// </summary>
public sealed class PassphraseRootKeyProvider : IRootKeyProvider
{
    /// <summary>The default PBKDF2-HMAC-SHA256 iteration count (OWASP's 2023 recommendation).</summary>
    public const int DefaultIterations = 600_000;

    /// <summary>The smallest iteration count accepted.</summary>
    public const int MinimumIterations = 100_000;

    private const string Scheme = "pbkdf2-sha256";
    private const int SaltSize = 32;
    private readonly string _passphrase;
    private readonly int _iterations;

    /// <summary>Derives the root key from <paramref name="passphrase"/>.</summary>
    /// <param name="passphrase">At least 12 characters.</param>
    /// <param name="iterations">The PBKDF2 cost for a new store; an existing store keeps its recorded cost.</param>
    public PassphraseRootKeyProvider(string passphrase, int iterations = DefaultIterations)
    {
        ArgumentNullException.ThrowIfNull(passphrase);
        if (passphrase.Length < 12)
        {
            throw new KmsRootKeyException("A root-key passphrase must have at least 12 characters.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, MinimumIterations);
        _passphrase = passphrase;
        _iterations = iterations;
    }

    /// <inheritdoc />
    public ValueTask<RootKey> GetRootKeyAsync(string? storedParameters, CancellationToken cancellationToken)
    {
        byte[] salt;
        int iterations;
        if (storedParameters is null)
        {
            salt = RandomNumberGenerator.GetBytes(SaltSize);
            iterations = _iterations;
        }
        else
        {
            (salt, iterations) = Parse(storedParameters);
        }

        var parameters = string.Create(CultureInfo.InvariantCulture, $"{Scheme};i={iterations};s={Convert.ToBase64String(salt)}");
        var passphraseBytes = Encoding.UTF8.GetBytes(_passphrase);
        var key = GC.AllocateArray<byte>(AesGcmRootKey.KeySize, pinned: true);
        try
        {
            Rfc2898DeriveBytes.Pbkdf2(passphraseBytes, salt, key, iterations, HashAlgorithmName.SHA256);
            return ValueTask.FromResult<RootKey>(new AesGcmRootKey(key, parameters));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
            CryptographicOperations.ZeroMemory(passphraseBytes);
        }
    }

    private static (byte[] Salt, int Iterations) Parse(string parameters)
    {
        var parts = parameters.Split(';');
        if (parts.Length == 3 && parts[0] == Scheme
            && parts[1].StartsWith("i=", StringComparison.Ordinal)
            && int.TryParse(parts[1].AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture, out var iterations)
            && iterations >= MinimumIterations
            && parts[2].StartsWith("s=", StringComparison.Ordinal))
        {
            try
            {
                var salt = Convert.FromBase64String(parts[2][2..]);
                if (salt.Length >= 16)
                {
                    return (salt, iterations);
                }
            }
            catch (FormatException)
            {
                // Reported below.
            }
        }

        throw new KmsRootKeyException("The key store was not created with a passphrase root key, or its recorded KDF parameters are malformed.");
    }
}

/// <summary>
/// A development root key kept in a file beside the store. On first use the file is created with
/// 32 random bytes and owner-only permissions, and a warning says so. Meant for local development
/// and demos: anyone who can read the file can read every key, so production configurations supply
/// the root key from a secret store, an environment variable or a passphrase instead.
/// </summary>
public sealed class DevelopmentRootKeyProvider : IRootKeyProvider
{
    /// <summary>
    /// Recorded in the store as the root-key parameters, so that a store created with a development
    /// key is recognised later and a missing key file is reported instead of silently replaced.
    /// </summary>
    private const string StoredParametersMarker = "development-key-file";

    private readonly ILogger _logger;

    /// <summary>Uses (and creates when missing) the root key file at <paramref name="path"/>.</summary>
    public DevelopmentRootKeyProvider(string path, ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        Path = System.IO.Path.GetFullPath(path);
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>The full path of the root key file.</summary>
    public string Path { get; }

    /// <summary>Whether the last call created the file.</summary>
    public bool Created { get; private set; }

    /// <inheritdoc />
    public ValueTask<RootKey> GetRootKeyAsync(string? storedParameters, CancellationToken cancellationToken)
    {
        if (!File.Exists(Path))
        {
            if (storedParameters is not null)
            {
                throw new KmsRootKeyException($"The development root key file '{Path}' is missing but the key store already exists; restore the file.");
            }

            CreateKeyFile();
        }

        byte[] text;
        try
        {
            text = File.ReadAllBytes(Path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new KmsRootKeyException($"The development root key file '{Path}' cannot be read: {e.Message}", e);
        }

        var key = GC.AllocateArray<byte>(48, pinned: true);
        try
        {
            if (Base64.DecodeFromUtf8(text.AsSpan().Trim("\r\n \t"u8), key, out _, out var written) != OperationStatus.Done
                || written != AesGcmRootKey.KeySize)
            {
                throw new KmsRootKeyException($"The development root key file '{Path}' must hold 32 bytes, base64 encoded.");
            }

            return ValueTask.FromResult<RootKey>(new AesGcmRootKey(key.AsSpan(0, written), StoredParametersMarker));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
            CryptographicOperations.ZeroMemory(text);
        }
    }

    private void CreateKeyFile()
    {
        System.IO.Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        var key = GC.AllocateArray<byte>(AesGcmRootKey.KeySize, pinned: true);
        var encoded = GC.AllocateArray<byte>(Base64.GetMaxEncodedToUtf8Length(AesGcmRootKey.KeySize), pinned: true);
        try
        {
            RandomNumberGenerator.Fill(key);
            Base64.EncodeToUtf8(key, encoded, out _, out var length);
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using (var stream = new FileStream(Path, options))
            {
                stream.Write(encoded, 0, length);
                stream.Flush(flushToDisk: true);
            }

            Created = true;
            Log.CreatedDevelopmentRootKey(_logger, Path);
        }
        catch (IOException) when (File.Exists(Path))
        {
            // Another process created it first; use theirs.
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
            CryptographicOperations.ZeroMemory(encoded);
        }
    }
}
