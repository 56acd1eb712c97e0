using System.Security.Cryptography;
using System.Text;

namespace EnvelopeKms.Hsm.Pkcs11;

/// <summary>
/// Where the HSM is: the PKCS#11 module (the vendor's shared library), the token, and where the user PIN
/// comes from. <see cref="ToString"/> never shows the PIN, and no exception message contains it.
/// </summary>
public sealed class Pkcs11HsmOptions
{
    /// <summary>The path of the PKCS#11 module, for example <c>/usr/lib/softhsm/libsofthsm2.so</c>.</summary>
    public string ModulePath { get; set; } = "";

    /// <summary>The label of the token (a partition of the HSM) that holds the keys.</summary>
    public string TokenLabel { get; set; } = "";

    /// <summary>Where the crypto user's PIN comes from; it is read at each connection and zeroed after the login.</summary>
    public Pkcs11PinSource? UserPin { get; set; }

    /// <summary>The most PKCS#11 sessions open at once (one operation runs on one session at a time). Default 8.</summary>
    public int MaxSessions { get; set; } = 8;

    /// <summary>How long an operation waits for a free session before failing with <see cref="KmsDependencyTimeoutException"/>. Default 30 seconds.</summary>
    public TimeSpan SessionWaitTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Checks the options.</summary>
    /// <exception cref="KmsValidationException">A required value is missing or out of range.</exception>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(ModulePath))
        {
            throw new KmsValidationException("Pkcs11HsmOptions.ModulePath is required (the PKCS#11 module, for example /usr/lib/softhsm/libsofthsm2.so).");
        }

        if (string.IsNullOrWhiteSpace(TokenLabel))
        {
            throw new KmsValidationException("Pkcs11HsmOptions.TokenLabel is required.");
        }

        if (UserPin is null)
        {
            throw new KmsValidationException("Pkcs11HsmOptions.UserPin is required (for example Pkcs11PinSource.FromEnvironment(\"ENVELOPEKMS_HSM_PIN\")).");
        }

        if (MaxSessions is < 1 or > 1024)
        {
            throw new KmsValidationException("Pkcs11HsmOptions.MaxSessions must be between 1 and 1024.");
        }

        if (SessionWaitTimeout <= TimeSpan.Zero || SessionWaitTimeout.TotalMilliseconds > int.MaxValue)
        {
            throw new KmsValidationException("Pkcs11HsmOptions.SessionWaitTimeout must be positive.");
        }
    }

    /// <summary>A copy, so that a backend is not changed by later changes to the options it was given.</summary>
    internal Pkcs11HsmOptions Clone() => (Pkcs11HsmOptions)MemberwiseClone();

    /// <summary>Describes the HSM without the PIN.</summary>
    public override string ToString() => $"PKCS#11 module '{ModulePath}', token '{TokenLabel}', PIN from {UserPin?.ToString() ?? "nowhere"}";
}

/// <summary>
/// Supplies the HSM user PIN when a connection logs in. The PIN is not kept by EnvelopeKms between logins
/// (except a source made with <see cref="FromValue"/>, which holds the copy it was given), and never appears in
/// <see cref="object.ToString"/>, logs or exception messages.
/// </summary>
public abstract class Pkcs11PinSource
{
    /// <summary>Returns the PIN as UTF-8 bytes in a new array, which the caller zeroes after use.</summary>
    /// <exception cref="KmsValidationException">The PIN is not available (the variable or file is missing or empty).</exception>
    public abstract byte[] GetPin();

    /// <summary>Reads the PIN from an environment variable at each login.</summary>
    public static Pkcs11PinSource FromEnvironment(string variable)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(variable);
        return new EnvironmentPinSource(variable);
    }

    /// <summary>Reads the PIN from the first line of a file (for example a mounted secret) at each login.</summary>
    public static Pkcs11PinSource FromFile(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return new FilePinSource(Path.GetFullPath(path));
    }

    /// <summary>Asks <paramref name="getPin"/> for the PIN at each login (for example from a secret manager).</summary>
    public static Pkcs11PinSource FromDelegate(Func<string> getPin)
    {
        ArgumentNullException.ThrowIfNull(getPin);
        return new DelegatePinSource(getPin);
    }

    /// <summary>Uses the given PIN (a copy is kept in pinned memory). Prefer a source that reads it at login.</summary>
    public static Pkcs11PinSource FromValue(string pin)
    {
        ArgumentException.ThrowIfNullOrEmpty(pin);
        return new ValuePinSource(pin);
    }

    private static byte[] Encode(string? pin, string source)
    {
        if (string.IsNullOrEmpty(pin))
        {
            throw new KmsValidationException($"No HSM user PIN was found in {source}.");
        }

        return Encoding.UTF8.GetBytes(pin);
    }

    private sealed class EnvironmentPinSource(string variable) : Pkcs11PinSource
    {
        public override byte[] GetPin() => Encode(Environment.GetEnvironmentVariable(variable), ToString());

        public override string ToString() => $"the environment variable '{variable}'";
    }

    private sealed class FilePinSource(string path) : Pkcs11PinSource
    {
        public override byte[] GetPin()
        {
            string text;
            try
            {
                text = File.ReadAllText(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new KmsValidationException($"The HSM user PIN file '{path}' cannot be read ({e.GetType().Name}).");
            }

            var newline = text.IndexOfAny(['\r', '\n']);
            return Encode(newline >= 0 ? text[..newline] : text, ToString());
        }

        public override string ToString() => $"the file '{path}'";
    }

    private sealed class DelegatePinSource(Func<string> getPin) : Pkcs11PinSource
    {
        public override byte[] GetPin() => Encode(getPin(), ToString());

        public override string ToString() => "a PIN callback";
    }

    private sealed class ValuePinSource : Pkcs11PinSource
    {
        private readonly byte[] _pin;

        public ValuePinSource(string pin)
        {
            var bytes = Encoding.UTF8.GetBytes(pin);
            _pin = GC.AllocateArray<byte>(bytes.Length, pinned: true);
            bytes.CopyTo(_pin, 0);
            CryptographicOperations.ZeroMemory(bytes);
        }

        public override byte[] GetPin() => (byte[])_pin.Clone();

        public override string ToString() => "a configured value";
    }
}
