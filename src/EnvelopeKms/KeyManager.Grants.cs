using System.Security.Cryptography;
using System.Text;
using EnvelopeKms.Authorization;
using EnvelopeKms.KeyManagement;
using EnvelopeKms.Storage;

namespace EnvelopeKms;

/// <summary>Grants: <c>CreateGrant</c>, <c>ListGrants</c>, <c>ListRetirableGrants</c>, <c>RetireGrant</c>, <c>RevokeGrant</c>.</summary>
public sealed partial class KeyManager
{
    /// <summary>At most this many grants per key (KMS's quota).</summary>
    public const int MaxGrantsPerKey = 50_000;

    private const int MaxConstraintPairs = 8;
    private const int MaxConstraintValueLength = 384;

    private static readonly GrantOperation[] CryptographicSymmetricGrantOperations =
    [
        GrantOperation.Decrypt, GrantOperation.Encrypt, GrantOperation.GenerateDataKey, GrantOperation.GenerateDataKeyWithoutPlaintext,
        GrantOperation.ReEncryptFrom, GrantOperation.ReEncryptTo, GrantOperation.GenerateDataKeyPair, GrantOperation.GenerateDataKeyPairWithoutPlaintext,
    ];

    private IGrantStore? GrantStore => _store.Grants;

    /// <summary>
    /// <c>CreateGrant</c>: lets <see cref="CreateGrantRequest.GranteePrincipal"/> run the listed operations
    /// on the key until the grant is retired or revoked. Grants take effect at once (there is no
    /// eventual consistency in-process); the returned token is still issued and accepted.
    /// </summary>
    public Task<CreateGrantResponse> CreateGrantAsync(CreateGrantRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.CreateGrant, request, async ctx =>
        {
            var grantee = ValidatePrincipal(request.GranteePrincipal, nameof(request.GranteePrincipal));
            var retiring = request.RetiringPrincipal is null ? null : ValidatePrincipal(request.RetiringPrincipal, nameof(request.RetiringPrincipal));
            var operations = ValidateGrantOperations(request.Operations);
            ValidateGrantName(request.Name);
            var subset = ValidateConstraint(request.Constraints?.EncryptionContextSubset, "Constraints.EncryptionContextSubset");
            var equals = ValidateConstraint(request.Constraints?.EncryptionContextEquals, "Constraints.EncryptionContextEquals");
            var grants = GrantStore ?? throw new KmsUnsupportedOperationException("This key store keeps no grants (it does not implement IGrantStore).");

            ctx.DeferDryRun = true;
            var key = await UseKeyAsync(ctx, KmsOperation.CreateGrant, request.KeyId, nameof(request.KeyId), allowAlias: false, cancellationToken).ConfigureAwait(false);
            RequireOperationsFitKey(key, operations, subset is not null || equals is not null);
            if (ctx.GrantId is { } parentId)
            {
                // A grantee creating a grant through its grant: the new grant may not be broader.
                var parent = await grants.GetGrantAsync(key.KeyId, parentId, cancellationToken).ConfigureAwait(false);
                if (parent is not null)
                {
                    RequireNoBroaderThan(parent, operations, subset, equals);
                }
            }

            if (await grants.CountGrantsAsync(key.KeyId, cancellationToken).ConfigureAwait(false) >= MaxGrantsPerKey)
            {
                throw new KmsLimitExceededException($"{_ids.KeyArn(key.KeyId)} has {MaxGrantsPerKey} grants, the most a key can have; retire or revoke some first.");
            }

            ThrowIfDryRun(ctx, ctx.Operation);
            var record = new GrantRecord
            {
                KeyId = key.KeyId,
                GrantId = request.Name is null ? Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)) : NamedGrantId(key.KeyId, request.Name, grantee, retiring, operations, subset, equals),
                Name = request.Name,
                GranteePrincipal = grantee,
                RetiringPrincipal = retiring,
                IssuingAccount = $"arn:{ctx.Caller.Partition}:iam::{ctx.Caller.AccountId}:root",
                Operations = [.. operations.Select(o => o.ToString()).Order(StringComparer.Ordinal)],
                EncryptionContextSubset = subset,
                EncryptionContextEquals = equals,
                CreationDate = _time.GetUtcNow(),
            };
            await CommitPointAsync(ctx, cancellationToken).ConfigureAwait(false);
            try
            {
                await grants.InsertGrantAsync(record, CancellationToken.None).ConfigureAwait(false);
            }
            catch (KeyStoreConflictException) when (request.Name is not null)
            {
                // The same named request again: idempotent, the existing grant's id with a new token.
                _ = await grants.GetGrantAsync(key.KeyId, record.GrantId, cancellationToken).ConfigureAwait(false)
                    ?? throw new KmsConflictException("The named grant was created and removed concurrently; retry the request.");
            }

            var rootKey = await GetRootKeyAsync(cancellationToken).ConfigureAwait(false);
            return new CreateGrantResponse { GrantId = record.GrantId, GrantToken = GrantTokens.Issue(rootKey, key.KeyId, record.GrantId) };
        });
    }

    /// <summary><c>ListGrants</c>: the key's grants, ordered by grant id, optionally only one grant or one grantee's.</summary>
    public Task<ListGrantsResponse> ListGrantsAsync(ListGrantsRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.ListGrants, request, async ctx =>
        {
            var limit = InputValidation.ValidateLimit(request.Limit, 100, 50);
            var after = DecodeMarker(request.Marker, Identifiers.IsKeyMaterialId);
            if (request.GrantId is not null)
            {
                ValidateGrantId(request.GrantId);
            }

            var grantee = request.GranteePrincipal is null ? null : ValidatePrincipal(request.GranteePrincipal, nameof(request.GranteePrincipal));
            var key = await UseKeyAsync(ctx, KmsOperation.ListGrants, request.KeyId, nameof(request.KeyId), allowAlias: false, cancellationToken).ConfigureAwait(false);
            var grants = GrantStore;
            IReadOnlyList<GrantRecord> page;
            if (grants is null)
            {
                page = [];
            }
            else if (request.GrantId is not null)
            {
                var one = await grants.GetGrantAsync(key.KeyId, request.GrantId, cancellationToken).ConfigureAwait(false);
                page = one is not null && (grantee is null || one.GranteePrincipal == grantee) && (after is null || string.CompareOrdinal(one.GrantId, after) > 0) ? [one] : [];
            }
            else if (grantee is not null)
            {
                page = [.. (await grants.ListGrantsForGranteeAsync(key.KeyId, grantee, cancellationToken).ConfigureAwait(false))
                    .Where(g => after is null || string.CompareOrdinal(g.GrantId, after) > 0)
                    .OrderBy(g => g.GrantId, StringComparer.Ordinal)
                    .Take(limit + 1)];
            }
            else
            {
                page = await grants.ListGrantsAsync(key.KeyId, after, limit + 1, cancellationToken).ConfigureAwait(false);
            }

            var items = page.Take(limit).Select(ToListEntry).ToList();
            return new ListGrantsResponse { Items = items, NextMarker = page.Count > limit ? EncodeMarker(items[^1].GrantId) : null };
        });
    }

    /// <summary><c>ListRetirableGrants</c>: the grants (of every key) that a principal may retire as their retiring principal.</summary>
    public Task<ListGrantsResponse> ListRetirableGrantsAsync(ListRetirableGrantsRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.ListRetirableGrants, request, async ctx =>
        {
            var limit = InputValidation.ValidateLimit(request.Limit, 100, 50);
            var retiring = ValidatePrincipal(request.RetiringPrincipal, nameof(request.RetiringPrincipal));
            var after = DecodeMarker(request.Marker, static m => m.IndexOf('/') is > 0 and var slash && Identifiers.IsKeyIdShape(m.AsSpan(0, slash)) && Identifiers.IsKeyMaterialId(m[(slash + 1)..]));
            await AuthorizeAsync(ctx, KmsOperation.ListRetirableGrants, key: null, cancellationToken).ConfigureAwait(false);
            if (GrantStore is not { } grants)
            {
                return new ListGrantsResponse { Items = [] };
            }

            var slash = after?.IndexOf('/') ?? -1;
            var page = await grants.ListRetirableGrantsAsync(retiring, after?[..slash], after?[(slash + 1)..], limit + 1, cancellationToken).ConfigureAwait(false);
            var items = page.Take(limit).Select(ToListEntry).ToList();
            return new ListGrantsResponse { Items = items, NextMarker = page.Count > limit ? EncodeMarker($"{page[limit - 1].KeyId}/{page[limit - 1].GrantId}") : null };
        });
    }

    /// <summary>
    /// <c>RetireGrant</c>: deletes a grant, named by a grant token or by key and grant id. Allowed to the
    /// grant's retiring principal, to its grantee when the grant includes <c>RetireGrant</c>, to the root
    /// principal of the account that created it, and to principals a key policy or identity policy
    /// gives <c>kms:RetireGrant</c>.
    /// </summary>
    public Task RetireGrantAsync(RetireGrantRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.RetireGrant, request, async ctx =>
        {
            string keyId;
            string grantId;
            if (request.GrantToken is not null)
            {
                var rootKey = await GetRootKeyAsync(cancellationToken).ConfigureAwait(false);
                (keyId, grantId) = GrantTokens.Parse(rootKey, request.GrantToken, nameof(request.GrantToken));
                if (request.GrantId is not null && request.GrantId != grantId)
                {
                    throw new KmsValidationException("GrantId names another grant than GrantToken; give one of them (with KeyId) or matching values.");
                }
            }
            else if (request.KeyId is not null && request.GrantId is not null)
            {
                ValidateGrantId(request.GrantId);
                var identifier = _ids.Parse(request.KeyId, nameof(request.KeyId));
                if (identifier.IsAlias)
                {
                    throw new KmsValidationException("KeyId of RetireGrant must be a key id or key ARN, not an alias.");
                }

                keyId = identifier.Value;
                grantId = request.GrantId;
            }
            else
            {
                throw new KmsValidationException("RetireGrant needs GrantToken, or both KeyId and GrantId.");
            }

            ctx.KeyId = keyId;
            var grants = GrantStore ?? throw new KmsUnsupportedOperationException("This key store keeps no grants (it does not implement IGrantStore).");
            var key = await ResolveAsync(ctx, new KeyIdentifier(KeyIdentifierKind.KeyId, keyId), cancellationToken).ConfigureAwait(false);
            var grant = await grants.GetGrantAsync(key.KeyId, grantId, cancellationToken).ConfigureAwait(false)
                ?? throw new KmsNotFoundException($"Grant {grantId} of key {_ids.KeyArn(key.KeyId)} does not exist.");
            var caller = ctx.Caller;
            if (grant.RetiringPrincipal == caller.PrincipalArn)
            {
                ctx.AuthorizationSummary = $"Allowed: the caller is the retiring principal of grant {grant.GrantId}.";
            }
            else if (grant.GranteePrincipal == caller.PrincipalArn && grant.Operations.Contains(nameof(GrantOperation.RetireGrant)))
            {
                ctx.AuthorizationSummary = $"Allowed: the caller is the grantee of grant {grant.GrantId}, which allows RetireGrant.";
            }
            else if (caller.IsAccountRoot && grant.IssuingAccount == caller.PrincipalArn)
            {
                ctx.AuthorizationSummary = $"Allowed: the caller is the account that created grant {grant.GrantId}.";
            }
            else
            {
                await AuthorizeAsync(ctx, KmsOperation.RetireGrant, key, cancellationToken).ConfigureAwait(false);
            }

            KeyStateRules.Enforce(KmsOperation.RetireGrant, key.KeyState, _ids.KeyArn(key.KeyId));
            ThrowIfDryRun(ctx, ctx.Operation);
            await DeleteGrantAsync(ctx, grants, grant, cancellationToken).ConfigureAwait(false);
            return true;
        });
    }

    /// <summary><c>RevokeGrant</c>: deletes a grant; needs <c>kms:RevokeGrant</c> on the key.</summary>
    public Task RevokeGrantAsync(RevokeGrantRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.RevokeGrant, request, async ctx =>
        {
            ValidateGrantId(request.GrantId);
            var grants = GrantStore ?? throw new KmsUnsupportedOperationException("This key store keeps no grants (it does not implement IGrantStore).");
            var key = await UseKeyAsync(ctx, KmsOperation.RevokeGrant, request.KeyId, nameof(request.KeyId), allowAlias: false, cancellationToken).ConfigureAwait(false);
            var grant = await grants.GetGrantAsync(key.KeyId, request.GrantId, cancellationToken).ConfigureAwait(false)
                ?? throw new KmsNotFoundException($"Grant {request.GrantId} of key {_ids.KeyArn(key.KeyId)} does not exist.");
            await DeleteGrantAsync(ctx, grants, grant, cancellationToken).ConfigureAwait(false);
            return true;
        });
    }

    private async Task DeleteGrantAsync(OperationContext ctx, IGrantStore grants, GrantRecord grant, CancellationToken cancellationToken)
    {
        await CommitPointAsync(ctx, cancellationToken).ConfigureAwait(false);
        try
        {
            await grants.DeleteGrantAsync(grant.KeyId, grant.GrantId, grant.Version, CancellationToken.None).ConfigureAwait(false);
        }
        catch (KeyStoreConflictException e)
        {
            // Retired or revoked by someone else meanwhile: the grant is gone either way.
            _ = e;
        }
    }

    private GrantListEntry ToListEntry(GrantRecord grant) => new()
    {
        KeyId = _ids.KeyArn(grant.KeyId),
        GrantId = grant.GrantId,
        Name = grant.Name,
        CreationDate = grant.CreationDate,
        GranteePrincipal = grant.GranteePrincipal,
        RetiringPrincipal = grant.RetiringPrincipal,
        IssuingAccount = grant.IssuingAccount,
        Operations = [.. grant.Operations.Select(o => Enum.TryParse<GrantOperation>(o, out var operation) ? operation : default).Where(o => o != default)],
        Constraints = grant.EncryptionContextSubset is null && grant.EncryptionContextEquals is null
            ? null
            : new GrantConstraints { EncryptionContextSubset = grant.EncryptionContextSubset, EncryptionContextEquals = grant.EncryptionContextEquals },
    };

    /// <summary>A principal ARN (or a 12-digit account id, which means the account's root principal).</summary>
    private string ValidatePrincipal(string? principal, string parameterName)
    {
        if (string.IsNullOrEmpty(principal) || principal.Length > 256)
        {
            throw new KmsValidationException($"{parameterName} must be a principal ARN of 1 to 256 characters.");
        }

        if (principal.Length == 12 && principal.All(char.IsAsciiDigit))
        {
            return $"arn:{_ids.Partition}:iam::{principal}:root";
        }

        try
        {
            return new CallerIdentity(principal).PrincipalArn;
        }
        catch (ArgumentException)
        {
            throw new KmsValidationException($"{parameterName} '{principal}' is not a principal ARN such as arn:aws:iam::111122223333:role/app, nor an account id.");
        }
    }

    private static GrantOperation[] ValidateGrantOperations(IReadOnlyList<GrantOperation>? operations)
    {
        if (operations is null || operations.Count == 0)
        {
            throw new KmsValidationException("Operations must list at least one grant operation.");
        }

        foreach (var operation in operations)
        {
            if (!Enum.IsDefined(operation))
            {
                throw new KmsValidationException($"Operations contains {(int)operation}, which is not a grant operation.");
            }
        }

        return [.. operations.Distinct().Order()];
    }

    private static void ValidateGrantName(string? name)
    {
        if (name is not null && (name.Length is 0 or > 256 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is ':' or '/' or '_' or '-')))
        {
            throw new KmsValidationException("Name must be 1 to 256 characters of a-z, A-Z, 0-9, ':', '/', '_' and '-'.");
        }
    }

    private static void ValidateGrantId(string? grantId)
    {
        if (grantId is null || !Identifiers.IsKeyMaterialId(grantId))
        {
            throw new KmsInvalidGrantIdException("GrantId must be a grant id: 64 lowercase hexadecimal characters, as CreateGrant returns.");
        }
    }

    private static System.Collections.ObjectModel.ReadOnlyDictionary<string, string>? ValidateConstraint(IReadOnlyDictionary<string, string>? constraint, string parameterName)
    {
        if (constraint is null)
        {
            return null;
        }

        if (constraint.Count is 0 or > MaxConstraintPairs)
        {
            throw new KmsValidationException($"{parameterName} must have 1 to {MaxConstraintPairs} pairs.");
        }

        var keys = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (contextKey, value) in constraint)
        {
            if (string.IsNullOrEmpty(contextKey) || string.IsNullOrEmpty(value) || value.Length > MaxConstraintValueLength)
            {
                throw new KmsValidationException($"{parameterName} keys must not be empty, and values must be 1 to {MaxConstraintValueLength} characters.");
            }

            if (!keys.Add(contextKey))
            {
                throw new KmsValidationException($"{parameterName} has two keys that differ only by case; grant constraints compare keys case-insensitively.");
            }
        }

        return new SortedDictionary<string, string>(constraint.ToDictionary(), StringComparer.Ordinal).AsReadOnly();
    }

    /// <summary>KMS's rule: a grant may only list operations the key supports, and encryption-context constraints need a symmetric encryption key.</summary>
    private static void RequireOperationsFitKey(KeyRecord key, GrantOperation[] operations, bool hasConstraints)
    {
        var symmetric = key.KeySpec == KeySpec.SymmetricDefault;
        foreach (var operation in operations)
        {
            var fits = operation switch
            {
                GrantOperation.CreateGrant or GrantOperation.RetireGrant or GrantOperation.DescribeKey => true,
                GrantOperation.Encrypt or GrantOperation.Decrypt or GrantOperation.ReEncryptFrom or GrantOperation.ReEncryptTo => key.KeyUsage == KeyUsage.EncryptDecrypt,
                GrantOperation.GenerateDataKey or GrantOperation.GenerateDataKeyWithoutPlaintext
                    or GrantOperation.GenerateDataKeyPair or GrantOperation.GenerateDataKeyPairWithoutPlaintext => symmetric && key.KeyUsage == KeyUsage.EncryptDecrypt,
                GrantOperation.Sign or GrantOperation.Verify => key.KeyUsage == KeyUsage.SignVerify,
                GrantOperation.GenerateMac or GrantOperation.VerifyMac => key.KeyUsage == KeyUsage.GenerateVerifyMac,
                GrantOperation.DeriveSharedSecret => key.KeyUsage == KeyUsage.KeyAgreement,
                GrantOperation.Encapsulate or GrantOperation.Decapsulate => key.KeyUsage == KeyUsage.EncapsulateDecapsulate,
                GrantOperation.GetPublicKey => !symmetric && key.KeyUsage != KeyUsage.GenerateVerifyMac,
                _ => false,
            };
            if (!fits)
            {
                throw new KmsValidationException($"Operations contains {operation}, which a {key.KeySpec.ToKmsName()} {key.KeyUsage.ToKmsName()} key does not support.");
            }
        }

        if (hasConstraints && (!symmetric || key.KeyUsage != KeyUsage.EncryptDecrypt))
        {
            throw new KmsValidationException($"Encryption-context grant constraints need a symmetric encryption key; {key.KeySpec.ToKmsName()} {key.KeyUsage.ToKmsName()} keys take no encryption context.");
        }
    }

    /// <summary>A grant created through a grant may allow no more than it: a subset of its operations, and constraints at least as strict.</summary>
    private static void RequireNoBroaderThan(GrantRecord parent, GrantOperation[] operations, IReadOnlyDictionary<string, string>? subset, IReadOnlyDictionary<string, string>? equals)
    {
        var extra = operations.Select(o => o.ToString()).Where(o => !parent.Operations.Contains(o)).ToList();
        if (extra.Count > 0)
        {
            throw new KmsAccessDeniedException($"Grant {parent.GrantId}, which allows this CreateGrant, does not allow {string.Join(", ", extra)}; a grant created through it can allow only its operations.");
        }

        if (parent.EncryptionContextEquals is { } parentEquals
            && (equals is null || !GrantExplanation.ContextEquals(equals, parentEquals)))
        {
            throw new KmsAccessDeniedException($"Grant {parent.GrantId}, which allows this CreateGrant, has an EncryptionContextEquals constraint; the new grant needs the same one.");
        }

        if (parent.EncryptionContextSubset is { } parentSubset
            && !(equals is not null && GrantExplanation.ContextContains(equals, parentSubset))
            && !(subset is not null && GrantExplanation.ContextContains(subset, parentSubset)))
        {
            throw new KmsAccessDeniedException($"Grant {parent.GrantId}, which allows this CreateGrant, has an EncryptionContextSubset constraint; the new grant needs a constraint that contains its pairs.");
        }
    }

    /// <summary>The grant id of a named grant: a hash of every parameter, so that the same request again names the same grant.</summary>
    private static string NamedGrantId(string keyId, string name, string grantee, string? retiring, GrantOperation[] operations, IReadOnlyDictionary<string, string>? subset, IReadOnlyDictionary<string, string>? equals)
    {
        var canonical = new StringBuilder("EnvelopeKms named grant v1\n");
        void Add(string? value) => canonical.Append(value is null ? "-1:" : $"{value.Length}:{value}").Append('\n');
        Add(keyId);
        Add(name);
        Add(grantee);
        Add(retiring);
        Add(string.Join(",", operations.Select(o => o.ToString())));
        foreach (var constraint in new[] { subset, equals })
        {
            Add(constraint is null ? null : constraint.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
            foreach (var pair in constraint?.OrderBy(p => p.Key.ToUpperInvariant(), StringComparer.Ordinal) ?? Enumerable.Empty<KeyValuePair<string, string>>())
            {
                Add(pair.Key.ToUpperInvariant());
                Add(pair.Value);
            }
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical.ToString())));
    }

}
