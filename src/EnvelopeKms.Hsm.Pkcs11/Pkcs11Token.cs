using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using EnvelopeKms.CustomKeyStores;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;

namespace EnvelopeKms.Hsm.Pkcs11;

/// <summary>
/// A logged-in connection to one token: the loaded module (shared by every connection to it in the
/// process), the login (shared too: PKCS#11 keeps one login state per token and application), and a
/// pool of sessions. One operation runs on one session at a time; <see cref="Run{T}"/> lends sessions.
/// </summary>
internal sealed class Pkcs11Token : IDisposable
{
    private readonly Pkcs11Module _module;
    private readonly ISlot _slot;
    private readonly SemaphoreSlim _slots;
    private readonly int _maxSessions;
    private readonly TimeSpan _wait;
    private readonly ConcurrentBag<ISession> _idle = [];
    private readonly string _description;
    private volatile bool _closed;

    private Pkcs11Token(Pkcs11Module module, ISlot slot, string serial, Pkcs11HsmOptions options, ISession first, string description)
    {
        _module = module;
        _slot = slot;
        Serial = serial;
        _maxSessions = options.MaxSessions;
        _wait = options.SessionWaitTimeout;
        _slots = new SemaphoreSlim(options.MaxSessions, options.MaxSessions);
        _idle.Add(first);
        _description = description;
    }

    /// <summary>The token's serial number.</summary>
    public string Serial { get; }

    /// <summary>Handles of keys found by id, valid while the module stays loaded.</summary>
    public ConcurrentDictionary<string, IObjectHandle> Handles { get; } = new(StringComparer.Ordinal);

    /// <summary>Label, model and serial of the token, for operators.</summary>
    public override string ToString() => _description;

    /// <summary>Loads the module, finds the token, opens a session and logs in.</summary>
    /// <exception cref="KmsCustomKeyStoreInvalidStateException">State <see cref="CustomKeyStoreConnectionState.Failed"/> with the connection error code.</exception>
    public static Pkcs11Token Connect(Pkcs11HsmOptions options)
    {
        options.Validate();
        var module = Pkcs11Module.Acquire(options.ModulePath);
        ISession? session = null;
        try
        {
            ISlot? slot = null;
            ITokenInfo? info = null;
            foreach (var candidate in module.Library.GetSlotList(SlotsType.WithTokenPresent))
            {
                var candidateInfo = candidate.GetTokenInfo();
                if (string.Equals(candidateInfo.Label, options.TokenLabel, StringComparison.Ordinal))
                {
                    if (slot is not null)
                    {
                        throw Failed(CustomKeyStoreConnectionErrorCode.InternalError, $"More than one token is labelled '{options.TokenLabel}'; give each token a unique label.");
                    }

                    slot = candidate;
                    info = candidateInfo;
                }
            }

            if (slot is null || info is null)
            {
                throw Failed(CustomKeyStoreConnectionErrorCode.ClusterNotFound, $"No token labelled '{options.TokenLabel}' is present in the PKCS#11 module '{options.ModulePath}'.");
            }

            if (!info.TokenFlags.TokenInitialized)
            {
                throw Failed(CustomKeyStoreConnectionErrorCode.ClusterNotFound, $"The token '{options.TokenLabel}' is not initialized.");
            }

            if (!info.TokenFlags.UserPinInitialized)
            {
                throw Failed(CustomKeyStoreConnectionErrorCode.UserNotFound, $"The token '{options.TokenLabel}' has no user PIN (the crypto user was never initialized).");
            }

            var mechanisms = slot.GetMechanismList();
            if (!mechanisms.Contains(CKM.CKM_AES_GCM) || !mechanisms.Contains(CKM.CKM_AES_KEY_GEN))
            {
                throw Failed(CustomKeyStoreConnectionErrorCode.InternalError, $"The token '{options.TokenLabel}' does not offer CKM_AES_KEY_GEN and CKM_AES_GCM.");
            }

            session = slot.OpenSession(SessionType.ReadWrite);
            module.Login(session, info.SerialNumber, options.TokenLabel, options.UserPin!);
            var description = $"token '{info.Label}' ({info.ManufacturerId} {info.Model}, serial {info.SerialNumber})";
            return new Pkcs11Token(module, slot, info.SerialNumber, options, session, description);
        }
        catch (Pkcs11Exception e)
        {
            session?.Dispose();
            Pkcs11Module.Release(module);
            throw Failed(ConnectionErrorOf(e.RV), $"Connecting to the token '{options.TokenLabel}' failed: {e.Method} returned {e.RV}.", e);
        }
        catch
        {
            session?.Dispose();
            Pkcs11Module.Release(module);
            throw;
        }
    }

    internal static KmsCustomKeyStoreInvalidStateException Failed(CustomKeyStoreConnectionErrorCode code, string message, Exception? inner = null)
        => new($"{message} (connection error {code.ToKmsName()})", CustomKeyStoreConnectionState.Failed, code, inner);

    internal static CustomKeyStoreConnectionErrorCode ConnectionErrorOf(CKR rv) => rv switch
    {
        CKR.CKR_PIN_INCORRECT or CKR.CKR_PIN_INVALID or CKR.CKR_PIN_LEN_RANGE or CKR.CKR_PIN_EXPIRED => CustomKeyStoreConnectionErrorCode.InvalidCredentials,
        CKR.CKR_PIN_LOCKED => CustomKeyStoreConnectionErrorCode.UserLockedOut,
        CKR.CKR_USER_PIN_NOT_INITIALIZED => CustomKeyStoreConnectionErrorCode.UserNotFound,
        CKR.CKR_USER_ANOTHER_ALREADY_LOGGED_IN or CKR.CKR_USER_TOO_MANY_TYPES => CustomKeyStoreConnectionErrorCode.UserLoggedIn,
        CKR.CKR_TOKEN_NOT_PRESENT or CKR.CKR_TOKEN_NOT_RECOGNIZED or CKR.CKR_SLOT_ID_INVALID => CustomKeyStoreConnectionErrorCode.ClusterNotFound,
        CKR.CKR_DEVICE_REMOVED or CKR.CKR_DEVICE_ERROR or CKR.CKR_SESSION_COUNT => CustomKeyStoreConnectionErrorCode.NetworkErrors,
        _ => CustomKeyStoreConnectionErrorCode.InternalError,
    };

    /// <summary>Runs <paramref name="operation"/> on a pooled session; a session the token closed is replaced once.</summary>
    /// <exception cref="KmsDependencyTimeoutException">No session became free in time.</exception>
    /// <exception cref="KmsCustomKeyStoreInvalidStateException">The connection is closed.</exception>
    public T Run<T>(Func<ISession, T> operation)
    {
        ThrowIfClosed();
        if (!_slots.Wait(_wait))
        {
            throw new KmsDependencyTimeoutException($"No PKCS#11 session of the {_description} became free within {_wait.TotalSeconds:0.#} s ({_maxSessions} in use).");
        }

        try
        {
            ThrowIfClosed();
            for (var attempt = 0; ; attempt++)
            {
                var session = _idle.TryTake(out var idle) ? idle : _slot.OpenSession(SessionType.ReadWrite);
                var keep = true;
                try
                {
                    return operation(session);
                }
                catch (Pkcs11Exception e) when (e.RV is CKR.CKR_SESSION_HANDLE_INVALID or CKR.CKR_SESSION_CLOSED)
                {
                    keep = false;
                    if (attempt > 0)
                    {
                        throw;
                    }
                }
                finally
                {
                    if (keep && !_closed)
                    {
                        _idle.Add(session);
                    }
                    else
                    {
                        DisposeQuietly(session);
                    }
                }
            }
        }
        finally
        {
            _slots.Release();
        }
    }

    private void ThrowIfClosed()
    {
        if (_closed)
        {
            throw new KmsCustomKeyStoreInvalidStateException($"The connection to the {_description} is closed.", CustomKeyStoreConnectionState.Disconnected, null);
        }
    }

    /// <summary>Waits for operations in flight (up to the session wait timeout), closes the sessions, logs out when this was the last connection to the token, and releases the module.</summary>
    public void Dispose()
    {
        if (_closed)
        {
            return;
        }

        _closed = true;
        var held = 0;
        var deadline = Environment.TickCount64 + (long)_wait.TotalMilliseconds;
        while (held < _maxSessions && _slots.Wait(TimeSpan.FromMilliseconds(Math.Max(0, deadline - Environment.TickCount64))))
        {
            held++;
        }

        var sessions = new List<ISession>();
        while (_idle.TryTake(out var session))
        {
            sessions.Add(session);
        }

        if (_module.LoggedOut(Serial) && sessions.Count > 0)
        {
            try
            {
                sessions[0].Logout();
            }
            catch (Pkcs11Exception)
            {
                // Not logged in any more, or the device is gone: closing the sessions ends the login anyway.
            }
        }

        foreach (var session in sessions)
        {
            DisposeQuietly(session);
        }

        Handles.Clear();
        Pkcs11Module.Release(_module);

        // Operations that were waiting for a session when the connection closed get one now and see it closed.
        if (held > 0)
        {
            _slots.Release(held);
        }
    }

    private static void DisposeQuietly(ISession session)
    {
        try
        {
            session.Dispose();
        }
        catch (Exception e) when (e is Pkcs11Exception or ObjectDisposedException)
        {
            // Already closed, or the module was finalized after a disconnection that stopped waiting.
        }
    }
}

/// <summary>
/// A PKCS#11 module loaded once per process and path (a second <c>C_Initialize</c> of the same library fails),
/// reference counted, with the login state of its tokens: PKCS#11 logs a user in per token and application,
/// so a second connection to a logged-in token cannot have its PIN checked by the token; its PIN is compared
/// with a keyed hash of the PIN of the first login instead, and the token is logged out only when the last
/// connection closes.
/// </summary>
internal sealed class Pkcs11Module
{
    private static readonly Lock Gate = new();
    private static readonly Dictionary<string, Pkcs11Module> Loaded = new(StringComparer.Ordinal);
    private static readonly byte[] PinHashKey = RandomNumberGenerator.GetBytes(32);
    private static bool s_resolverSet;

    private readonly Dictionary<string, TokenLogin> _logins = new(StringComparer.Ordinal);
    private int _references;

    private Pkcs11Module(string path, IPkcs11Library library)
    {
        Path = path;
        Library = library;
    }

    public string Path { get; }

    public IPkcs11Library Library { get; }

    public static Pkcs11Module Acquire(string modulePath)
    {
        var path = System.IO.Path.GetFullPath(modulePath);
        lock (Gate)
        {
            EnsureResolver();
            if (!Loaded.TryGetValue(path, out var module))
            {
                if (!File.Exists(path))
                {
                    throw Pkcs11Token.Failed(CustomKeyStoreConnectionErrorCode.ClusterNotFound, $"The PKCS#11 module '{path}' does not exist.");
                }

                IPkcs11Library library;
                try
                {
                    var factories = new Pkcs11InteropFactories();
                    library = factories.Pkcs11LibraryFactory.LoadPkcs11Library(factories, path, AppType.MultiThreaded);
                }
                catch (Exception e) when (e is Pkcs11Exception or DllNotFoundException or UnmanagedException or BadImageFormatException or EntryPointNotFoundException)
                {
                    throw Pkcs11Token.Failed(CustomKeyStoreConnectionErrorCode.ClusterNotFound, $"The PKCS#11 module '{path}' cannot be loaded ({e.GetType().Name}: {e.Message}).", e);
                }

                module = new Pkcs11Module(path, library);
                Loaded.Add(path, module);
            }

            module._references++;
            return module;
        }
    }

    public static void Release(Pkcs11Module module)
    {
        lock (Gate)
        {
            if (--module._references > 0)
            {
                return;
            }

            Loaded.Remove(module.Path);
            try
            {
                module.Library.Dispose();
            }
            catch (Pkcs11Exception)
            {
                // C_Finalize failed: the process keeps the library.
            }
        }
    }

    /// <summary>Logs the user in on <paramref name="session"/>, or checks the PIN against the login already in force.</summary>
    public void Login(ISession session, string serial, string label, Pkcs11PinSource pinSource)
    {
        var pin = pinSource.GetPin();
        try
        {
            var hash = HMACSHA256.HashData(PinHashKey, pin);
            lock (Gate)
            {
                if (_logins.TryGetValue(serial, out var login))
                {
                    if (!CryptographicOperations.FixedTimeEquals(hash, login.PinHash))
                    {
                        throw Pkcs11Token.Failed(CustomKeyStoreConnectionErrorCode.InvalidCredentials, $"The user PIN for the token '{label}' is not the PIN of the login already in force in this process.");
                    }

                    if (session.GetSessionInfo().State is not (CKS.CKS_RW_USER_FUNCTIONS or CKS.CKS_RO_USER_FUNCTIONS))
                    {
                        // Logged out behind the connections' backs (C_Logout by other code, or the token restarted): log in again.
                        LoginOrAccept(session, pin);
                    }

                    login.Connections++;
                    return;
                }

                try
                {
                    session.Login(CKU.CKU_USER, pin);
                }
                catch (Pkcs11Exception e) when (e.RV == CKR.CKR_USER_ALREADY_LOGGED_IN)
                {
                    // Logged in through the module outside EnvelopeKms: the PIN cannot be checked.
                    throw Pkcs11Token.Failed(CustomKeyStoreConnectionErrorCode.UserLoggedIn, $"The user of the token '{label}' is already logged in by other code in this process.", e);
                }

                _logins.Add(serial, new TokenLogin(hash));
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pin);
        }
    }

    private static void LoginOrAccept(ISession session, byte[] pin)
    {
        try
        {
            session.Login(CKU.CKU_USER, pin);
        }
        catch (Pkcs11Exception e) when (e.RV == CKR.CKR_USER_ALREADY_LOGGED_IN)
        {
            // Another thread of this process logged in meanwhile.
        }
    }

    /// <summary>Records that a connection to the token closed; <see langword="true"/> when it was the last (so the caller logs out).</summary>
    public bool LoggedOut(string serial)
    {
        lock (Gate)
        {
            if (!_logins.TryGetValue(serial, out var login))
            {
                return false;
            }

            if (--login.Connections > 0)
            {
                return false;
            }

            _logins.Remove(serial);
            return true;
        }
    }

    private static void EnsureResolver()
    {
        if (s_resolverSet)
        {
            return;
        }

        s_resolverSet = true;
        try
        {
            // Pkcs11Interop 5.3.0 calls dlopen from a library it names "libdl"; glibc 2.34+ (Debian 12) only ships libdl.so.2.
            NativeLibrary.SetDllImportResolver(typeof(CKA).Assembly, ResolveLibdl);
        }
        catch (InvalidOperationException)
        {
            // The application set its own resolver for Pkcs11Interop.
        }
    }

    private static IntPtr ResolveLibdl(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (libraryName == "libdl" && !OperatingSystem.IsWindows())
        {
            foreach (var candidate in new[] { "libdl.so.2", "libdl.so", "libc.so.6" })
            {
                if (NativeLibrary.TryLoad(candidate, out var handle))
                {
                    return handle;
                }
            }
        }

        return IntPtr.Zero;
    }

    private sealed class TokenLogin(byte[] pinHash)
    {
        public byte[] PinHash { get; } = pinHash;

        public int Connections { get; set; } = 1;
    }
}
