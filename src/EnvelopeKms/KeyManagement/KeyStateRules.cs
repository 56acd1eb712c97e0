using System.Collections.Frozen;

namespace EnvelopeKms.KeyManagement;

/// <summary>What a key state does to an operation on the key.</summary>
public enum KeyStateEffect
{
    /// <summary>The operation runs.</summary>
    Allowed = 1,
    /// <summary>The operation fails with <see cref="KmsDisabledException"/> (<c>DisabledException</c>).</summary>
    Disabled,
    /// <summary>The operation fails with <see cref="KmsInvalidStateException"/> (<c>KMSInvalidStateException</c>).</summary>
    InvalidState,
}

/// <summary>
/// The one place that says which operation each key state allows, following the AWS KMS key state
/// table. <c>docs/key-states.md</c> is this table in prose, and a test checks every pair.
/// Operations on no key (<c>CreateKey</c>, <c>ListKeys</c>, <c>ListAliases</c>, <c>GenerateRandom</c>, <c>GetUsageReport</c>)
/// are not in the table.
/// </summary>
public static class KeyStateRules
{
    private const KeyStateEffect A = KeyStateEffect.Allowed;
    private const KeyStateEffect D = KeyStateEffect.Disabled;
    private const KeyStateEffect X = KeyStateEffect.InvalidState;

    /// <summary>The states in the column order of <see cref="Table"/>.</summary>
    public static IReadOnlyList<KeyState> States { get; } =
    [
        KeyState.Enabled, KeyState.Disabled, KeyState.PendingDeletion, KeyState.PendingImport,
        KeyState.Unavailable, KeyState.Creating, KeyState.Updating, KeyState.PendingReplicaDeletion,
    ];

    private static readonly FrozenDictionary<KmsOperation, KeyStateEffect[]> Rows = new Dictionary<KmsOperation, KeyStateEffect[]>
    {
        //                                             Enabled Disabled PendDel PendImp Unavail Creating Updating PendReplDel
        [KmsOperation.DescribeKey] =                   [A,      A,       A,      A,      A,      A,       A,       A],
        [KmsOperation.ListResourceTags] =              [A,      A,       A,      A,      A,      A,       A,       A],
        [KmsOperation.UpdateKeyDescription] =          [A,      A,       X,      A,      A,      X,       X,       X],
        [KmsOperation.EnableKey] =                     [A,      A,       X,      X,      A,      X,       X,       X],
        [KmsOperation.DisableKey] =                    [A,      A,       X,      X,      A,      X,       X,       X],
        [KmsOperation.ScheduleKeyDeletion] =           [A,      A,       X,      A,      A,      X,       X,       X],
        [KmsOperation.CancelKeyDeletion] =             [X,      X,       A,      X,      X,      X,       X,       A],
        [KmsOperation.CreateAlias] =                   [A,      A,       X,      A,      A,      X,       X,       X],
        [KmsOperation.UpdateAlias] =                   [A,      A,       X,      A,      A,      X,       X,       X],
        [KmsOperation.DeleteAlias] =                   [A,      A,       A,      A,      A,      A,       A,       A],
        [KmsOperation.TagResource] =                   [A,      A,       X,      A,      A,      X,       X,       X],
        [KmsOperation.UntagResource] =                 [A,      A,       X,      A,      A,      X,       X,       X],
        [KmsOperation.Encrypt] =                       [A,      D,       X,      X,      X,      X,       X,       X],
        [KmsOperation.Decrypt] =                       [A,      D,       X,      X,      X,      X,       X,       X],
        [KmsOperation.ReEncryptFrom] =                 [A,      D,       X,      X,      X,      X,       X,       X],
        [KmsOperation.ReEncryptTo] =                   [A,      D,       X,      X,      X,      X,       X,       X],
        [KmsOperation.GenerateDataKey] =               [A,      D,       X,      X,      X,      X,       X,       X],
        [KmsOperation.GenerateDataKeyWithoutPlaintext] = [A,    D,       X,      X,      X,      X,       X,       X],
        [KmsOperation.GenerateMac] =                   [A,      D,       X,      X,      X,      X,       X,       X],
        [KmsOperation.VerifyMac] =                     [A,      D,       X,      X,      X,      X,       X,       X],
        [KmsOperation.Sign] =                          [A,      D,       X,      X,      X,      X,       X,       X],
        [KmsOperation.Verify] =                        [A,      D,       X,      X,      X,      X,       X,       X],
        [KmsOperation.GetPublicKey] =                  [A,      D,       X,      X,      X,      X,       X,       X],
        [KmsOperation.DeriveSharedSecret] =            [A,      D,       X,      X,      X,      X,       X,       X],
        [KmsOperation.Decapsulate] =                   [A,      D,       X,      X,      X,      X,       X,       X],
        [KmsOperation.Encapsulate] =                   [A,      D,       X,      X,      X,      X,       X,       X],
        [KmsOperation.GenerateDataKeyPair] =           [A,      D,       X,      X,      X,      X,       X,       X],
        [KmsOperation.GenerateDataKeyPairWithoutPlaintext] = [A, D,      X,      X,      X,      X,       X,       X],
        [KmsOperation.EnableKeyRotation] =             [A,      D,       X,      X,      X,      X,       X,       X],
        [KmsOperation.DisableKeyRotation] =            [A,      D,       X,      X,      X,      X,       X,       X],
        [KmsOperation.GetKeyRotationStatus] =          [A,      A,       A,      A,      A,      A,       A,       A],
        [KmsOperation.RotateKeyOnDemand] =             [A,      D,       X,      X,      X,      X,       X,       X],
        [KmsOperation.ListKeyRotations] =              [A,      A,       A,      A,      A,      A,       A,       A],
        [KmsOperation.PutKeyPolicy] =                  [A,      A,       A,      A,      A,      X,       X,       A],
        [KmsOperation.GetKeyPolicy] =                  [A,      A,       A,      A,      A,      A,       A,       A],
        [KmsOperation.ListKeyPolicies] =               [A,      A,       A,      A,      A,      A,       A,       A],
        [KmsOperation.CreateGrant] =                   [A,      A,       X,      A,      A,      X,       X,       X],
        [KmsOperation.ListGrants] =                    [A,      A,       A,      A,      A,      A,       A,       A],
        [KmsOperation.RetireGrant] =                   [A,      A,       A,      A,      A,      A,       A,       A],
        [KmsOperation.RevokeGrant] =                   [A,      A,       A,      A,      A,      A,       A,       A],
        [KmsOperation.SimulateAuthorization] =         [A,      A,       A,      A,      A,      A,       A,       A],
        [KmsOperation.GetKeyLastUsage] =               [A,      A,       A,      A,      A,      A,       A,       A],
        [KmsOperation.GetParametersForImport] =        [A,      A,       X,      A,      X,      X,       X,       X],
        [KmsOperation.ImportKeyMaterial] =             [A,      A,       X,      A,      X,      X,       X,       X],
        [KmsOperation.DeleteImportedKeyMaterial] =     [A,      A,       X,      A,      X,      X,       X,       X],
        [KmsOperation.ReplicateKey] =                  [A,      A,       X,      A,      X,      X,       X,       X],
        [KmsOperation.UpdatePrimaryRegion] =           [A,      X,       X,      X,      X,      X,       X,       X],
    }.ToFrozenDictionary();

    /// <summary>The operations on a key, in the row order of <see cref="Table"/>.</summary>
    public static IReadOnlyList<KmsOperation> Operations { get; } = [.. Rows.Keys.Order()];

    /// <summary>Every (operation, state, effect) triple of the table.</summary>
    public static IEnumerable<(KmsOperation Operation, KeyState State, KeyStateEffect Effect)> Table =>
        from operation in Operations
        from state in States
        select (operation, state, GetEffect(operation, state));

    /// <summary>What <paramref name="state"/> does to <paramref name="operation"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The operation does not act on an existing key.</exception>
    public static KeyStateEffect GetEffect(KmsOperation operation, KeyState state)
    {
        if (!Rows.TryGetValue(operation, out var row))
        {
            throw new ArgumentOutOfRangeException(nameof(operation), operation, "The operation does not act on an existing key.");
        }

        var column = state switch
        {
            KeyState.Enabled => 0,
            KeyState.Disabled => 1,
            KeyState.PendingDeletion => 2,
            KeyState.PendingImport => 3,
            KeyState.Unavailable => 4,
            KeyState.Creating => 5,
            KeyState.Updating => 6,
            KeyState.PendingReplicaDeletion => 7,
            _ => throw new ArgumentOutOfRangeException(nameof(state)),
        };
        return row[column];
    }

    /// <summary>Throws the error the table prescribes, if any.</summary>
    internal static void Enforce(KmsOperation operation, KeyState state, string keyArn)
    {
        switch (GetEffect(operation, state))
        {
            case KeyStateEffect.Allowed:
                return;
            case KeyStateEffect.Disabled:
                throw new KmsDisabledException($"{keyArn} is disabled.");
            default:
                throw new KmsInvalidStateException($"{keyArn} is {state.ToKmsName()}, which does not allow {operation}.");
        }
    }
}
