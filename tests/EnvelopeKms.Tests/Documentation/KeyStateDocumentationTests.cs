using EnvelopeKms.KeyManagement;
using EnvelopeKms.Tests.Infrastructure;

namespace EnvelopeKms.Tests.Documentation;

/// <summary>docs/key-states.md says what the code does: its state table and its alias table are checked cell by cell.</summary>
public sealed class KeyStateDocumentationTests
{
    private const string Document = "docs/key-states.md";

    [Fact]
    public void The_documented_state_table_is_KeyStateRules_for_every_operation_and_state()
    {
        var (states, rows) = ParseStateTable(RepositoryFiles.ReadText(Document));

        Assert.Equal(KeyStateRules.States, states);
        Assert.Equal(KeyStateRules.Operations.Order(), rows.Select(r => r.Operation).Order());
        var documented = rows.SelectMany(r => states.Select((state, i) => (r.Operation, State: state, Effect: r.Effects[i]))).ToList();
        var mismatches = KeyStateRules.Table
            .Where(cell => !documented.Contains(cell))
            .Select(cell => $"{cell.Operation} in {cell.State}: the code says {cell.Effect}, {Document} says {documented.Single(d => d.Operation == cell.Operation && d.State == cell.State).Effect}")
            .ToList();
        Assert.True(mismatches.Count == 0, string.Join('\n', mismatches));
        Assert.Equal(KeyStateRules.Operations.Count * KeyStateRules.States.Count, documented.Count);
    }

    [Fact]
    public async Task The_documented_alias_table_is_what_each_operation_accepts()
    {
        var rows = ParseAliasTable(RepositoryFiles.ReadText(Document));
        Assert.Equal(AliasProbes.Keys.Order(StringComparer.Ordinal), rows.Keys.Order(StringComparer.Ordinal));

        var failures = new List<string>();
        foreach (var (parameter, acceptsAlias) in rows)
        {
            foreach (var (form, isAlias) in new (string Form, bool IsAlias)[] { ("key id", false), ("key ARN", false), ("alias name", true), ("alias ARN", true) })
            {
                var expectSuccess = !isAlias || acceptsAlias;
                var outcome = await ProbeAsync(parameter, form);
                if (expectSuccess != (outcome is null))
                {
                    failures.Add($"{parameter} given as {form}: {Document} says {(expectSuccess ? "accepted" : "refused")}, the code {(outcome is null ? "accepted it" : $"threw {outcome}")}");
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    // ------------------------------------------------------------------ the state table

    private static (List<KeyState> States, List<(KmsOperation Operation, KeyStateEffect[] Effects)> Rows) ParseStateTable(string markdown)
    {
        var table = TableAfterHeader(markdown, "| Operation | `Enabled`");
        var states = table[0].Skip(1).Select(c => Enum.Parse<KeyState>(Unquote(c))).ToList();
        var rows = table.Skip(1).Select(cells =>
        {
            Assert.True(cells.Count == states.Count + 1, $"The row '{string.Join(" | ", cells)}' of {Document} has {cells.Count - 1} state cells; the header has {states.Count}.");
            var operation = Enum.Parse<KmsOperation>(FirstCode(cells[0]));
            return (operation, cells.Skip(1).Select(ParseEffect).ToArray());
        }).ToList();
        Assert.Equal(rows.Count, rows.Select(r => r.operation).Distinct().Count());
        return (states, rows);
    }

    private static KeyStateEffect ParseEffect(string cell) => cell switch
    {
        "✓" => KeyStateEffect.Allowed,
        "`DisabledException`" => KeyStateEffect.Disabled,
        "`KMSInvalidStateException`" => KeyStateEffect.InvalidState,
        _ => throw new FormatException($"The cell '{cell}' of {Document} is none of ✓, `DisabledException` and `KMSInvalidStateException`."),
    };

    // ------------------------------------------------------------------ the alias table

    private static Dictionary<string, bool> ParseAliasTable(string markdown)
    {
        var table = TableAfterHeader(markdown, "| Operation | Parameter | Accepts an alias |");
        var rows = new Dictionary<string, bool>(StringComparer.Ordinal);
        foreach (var cells in table.Skip(1))
        {
            var key = $"{FirstCode(cells[0])}.{FirstCode(cells[1])}";
            var accepts = cells[2] switch
            {
                "yes" => true,
                "no" => false,
                _ => throw new FormatException($"The alias cell '{cells[2]}' of {Document} is neither yes nor no."),
            };
            Assert.True(rows.TryAdd(key, accepts), $"{Document} lists {key} twice.");
        }

        return rows;
    }

    /// <summary>A key with the alias <c>alias/docs</c>, and a ciphertext under it.</summary>
    private sealed record Fixture(KeyManager Kms, string KeyId, string KeyArn, byte[] Ciphertext);

    /// <summary>Returns null when the call succeeded, or the error code it failed with.</summary>
    private static async Task<string?> ProbeAsync(string parameter, string form)
    {
        using var test = new TestKeyManager();
        var kms = test.Manager;
        var mac = parameter.StartsWith("GenerateMac.", StringComparison.Ordinal) || parameter.StartsWith("VerifyMac.", StringComparison.Ordinal);
        var signing = parameter.StartsWith("Sign.", StringComparison.Ordinal) || parameter.StartsWith("Verify.", StringComparison.Ordinal) || parameter.StartsWith("GetPublicKey.", StringComparison.Ordinal);
        var agreement = parameter.StartsWith("DeriveSharedSecret.", StringComparison.Ordinal);
        var kem = parameter.StartsWith("Decapsulate.", StringComparison.Ordinal) || parameter.StartsWith("Encapsulate.", StringComparison.Ordinal);
        var key = (await kms.CreateKeyAsync(
            kem ? new CreateKeyRequest { Description = "probe", KeySpec = KeySpec.MlKem512, KeyUsage = KeyUsage.EncapsulateDecapsulate }
            : agreement ? new CreateKeyRequest { Description = "probe", KeySpec = KeySpec.EccNistP256, KeyUsage = KeyUsage.KeyAgreement }
            : mac ? new CreateKeyRequest { Description = "probe", KeySpec = KeySpec.Hmac256, KeyUsage = KeyUsage.GenerateVerifyMac }
            : signing ? new CreateKeyRequest { Description = "probe", KeySpec = KeySpec.EccNistP256, KeyUsage = KeyUsage.SignVerify }
            : new CreateKeyRequest { Description = "probe" })).KeyMetadata;
        await kms.CreateAliasAsync(new CreateAliasRequest { AliasName = "alias/docs", TargetKeyId = key.KeyId });
        var ciphertext = mac || signing || agreement || kem ? [] : (await kms.EncryptAsync(new EncryptRequest { KeyId = key.KeyId, Plaintext = "probe"u8.ToArray() })).CiphertextBlob;
        var reference = form switch
        {
            "key id" => key.KeyId,
            "key ARN" => key.Arn,
            "alias name" => "alias/docs",
            _ => "arn:aws:kms:local:000000000000:alias/docs",
        };
        try
        {
            await AliasProbes[parameter](new Fixture(kms, key.KeyId, key.Arn, ciphertext), reference);
            return null;
        }
        catch (KmsException e)
        {
            return e.ErrorCode;
        }
    }

    /// <summary>One call per key parameter of every operation, naming the key by the given reference.</summary>
    private static readonly Dictionary<string, Func<Fixture, string, Task>> AliasProbes = new(StringComparer.Ordinal)
    {
        ["DescribeKey.KeyId"] = (f, r) => f.Kms.DescribeKeyAsync(new DescribeKeyRequest { KeyId = r }),
        ["UpdateKeyDescription.KeyId"] = (f, r) => f.Kms.UpdateKeyDescriptionAsync(new UpdateKeyDescriptionRequest { KeyId = r, Description = "new" }),
        ["EnableKey.KeyId"] = (f, r) => f.Kms.EnableKeyAsync(new EnableKeyRequest { KeyId = r }),
        ["DisableKey.KeyId"] = (f, r) => f.Kms.DisableKeyAsync(new DisableKeyRequest { KeyId = r }),
        ["ScheduleKeyDeletion.KeyId"] = (f, r) => f.Kms.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = r }),
        ["CancelKeyDeletion.KeyId"] = async (f, r) =>
        {
            await f.Kms.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = f.KeyId });
            await f.Kms.CancelKeyDeletionAsync(new CancelKeyDeletionRequest { KeyId = r });
        },
        ["CreateAlias.TargetKeyId"] = (f, r) => f.Kms.CreateAliasAsync(new CreateAliasRequest { AliasName = "alias/another", TargetKeyId = r }),
        ["UpdateAlias.TargetKeyId"] = async (f, r) =>
        {
            var other = await f.Kms.CreateKeyAsync("other");
            await f.Kms.CreateAliasAsync(new CreateAliasRequest { AliasName = "alias/moving", TargetKeyId = other.KeyId });
            await f.Kms.UpdateAliasAsync(new UpdateAliasRequest { AliasName = "alias/moving", TargetKeyId = r });
        },
        ["ListAliases.KeyId"] = (f, r) => f.Kms.ListAliasesAsync(new ListAliasesRequest { KeyId = r }),
        ["TagResource.KeyId"] = (f, r) => f.Kms.TagResourceAsync(new TagResourceRequest { KeyId = r, Tags = [new KeyTag("team", "docs")] }),
        ["UntagResource.KeyId"] = (f, r) => f.Kms.UntagResourceAsync(new UntagResourceRequest { KeyId = r, TagKeys = ["team"] }),
        ["ListResourceTags.KeyId"] = (f, r) => f.Kms.ListResourceTagsAsync(new ListResourceTagsRequest { KeyId = r }),
        ["Encrypt.KeyId"] = (f, r) => f.Kms.EncryptAsync(new EncryptRequest { KeyId = r, Plaintext = "x"u8.ToArray() }),
        ["Decrypt.KeyId"] = (f, r) => f.Kms.DecryptAsync(new DecryptRequest { CiphertextBlob = f.Ciphertext, KeyId = r }),
        ["ReEncrypt.SourceKeyId"] = (f, r) => f.Kms.ReEncryptAsync(new ReEncryptRequest { CiphertextBlob = f.Ciphertext, SourceKeyId = r, DestinationKeyId = f.KeyId }),
        ["ReEncrypt.DestinationKeyId"] = (f, r) => f.Kms.ReEncryptAsync(new ReEncryptRequest { CiphertextBlob = f.Ciphertext, DestinationKeyId = r }),
        ["GenerateDataKey.KeyId"] = (f, r) => f.Kms.GenerateDataKeyAsync(new GenerateDataKeyRequest { KeyId = r, KeySpec = DataKeySpec.Aes256 }),
        ["GenerateDataKeyWithoutPlaintext.KeyId"] = (f, r) => f.Kms.GenerateDataKeyWithoutPlaintextAsync(new GenerateDataKeyRequest { KeyId = r, NumberOfBytes = 64 }),
        ["GenerateMac.KeyId"] = (f, r) => f.Kms.GenerateMacAsync(new GenerateMacRequest { KeyId = r, Message = "x"u8.ToArray(), MacAlgorithm = MacAlgorithm.HmacSha256 }),
        ["VerifyMac.KeyId"] = (f, r) => f.Kms.VerifyMacAsync(new VerifyMacRequest { KeyId = r, Message = "x"u8.ToArray(), Mac = new byte[32], MacAlgorithm = MacAlgorithm.HmacSha256 }),
        ["Sign.KeyId"] = (f, r) => f.Kms.SignAsync(new SignRequest { KeyId = r, Message = "x"u8.ToArray(), SigningAlgorithm = SigningAlgorithm.EcdsaSha256 }),
        ["Verify.KeyId"] = (f, r) => f.Kms.VerifyAsync(new VerifyRequest { KeyId = r, Message = "x"u8.ToArray(), Signature = new byte[70], SigningAlgorithm = SigningAlgorithm.EcdsaSha256 }),
        ["GetPublicKey.KeyId"] = (f, r) => f.Kms.GetPublicKeyAsync(new GetPublicKeyRequest { KeyId = r }),
        ["Decapsulate.KeyId"] = (f, r) => f.Kms.DecapsulateAsync(new DecapsulateRequest { KeyId = r, Ciphertext = new byte[768] }),
        ["Encapsulate.KeyId"] = (f, r) => f.Kms.EncapsulateAsync(new EncapsulateRequest { KeyId = r }),
        ["GenerateDataKeyPair.KeyId"] = async (f, r) => (await f.Kms.GenerateDataKeyPairAsync(new GenerateDataKeyPairRequest { KeyId = r, KeyPairSpec = DataKeyPairSpec.EccNistP256 })).Dispose(),
        ["GenerateDataKeyPairWithoutPlaintext.KeyId"] = (f, r) => f.Kms.GenerateDataKeyPairWithoutPlaintextAsync(new GenerateDataKeyPairRequest { KeyId = r, KeyPairSpec = DataKeyPairSpec.EccNistP256 }),
        ["DeriveSharedSecret.KeyId"] = (f, r) => f.Kms.DeriveSharedSecretAsync(new DeriveSharedSecretRequest { KeyId = r, PublicKey = KeyManagement.OperationCatalog.PeerPublicKey }),
        ["EnableKeyRotation.KeyId"] = (f, r) => f.Kms.EnableKeyRotationAsync(new EnableKeyRotationRequest { KeyId = r }),
        ["DisableKeyRotation.KeyId"] = (f, r) => f.Kms.DisableKeyRotationAsync(new DisableKeyRotationRequest { KeyId = r }),
        ["GetKeyRotationStatus.KeyId"] = (f, r) => f.Kms.GetKeyRotationStatusAsync(new GetKeyRotationStatusRequest { KeyId = r }),
        ["RotateKeyOnDemand.KeyId"] = (f, r) => f.Kms.RotateKeyOnDemandAsync(new RotateKeyOnDemandRequest { KeyId = r }),
        ["ListKeyRotations.KeyId"] = (f, r) => f.Kms.ListKeyRotationsAsync(new ListKeyRotationsRequest { KeyId = r }),
        ["PutKeyPolicy.KeyId"] = (f, r) => f.Kms.PutKeyPolicyAsync(new PutKeyPolicyRequest { KeyId = r, Policy = KeyManager.DefaultKeyPolicy("000000000000") }),
        ["GetKeyPolicy.KeyId"] = (f, r) => f.Kms.GetKeyPolicyAsync(new GetKeyPolicyRequest { KeyId = r }),
        ["ListKeyPolicies.KeyId"] = (f, r) => f.Kms.ListKeyPoliciesAsync(new ListKeyPoliciesRequest { KeyId = r }),
        ["CreateGrant.KeyId"] = (f, r) => f.Kms.CreateGrantAsync(new CreateGrantRequest { KeyId = r, GranteePrincipal = "arn:aws:iam::000000000000:role/app", Operations = [GrantOperation.Encrypt] }),
        ["ListGrants.KeyId"] = (f, r) => f.Kms.ListGrantsAsync(new ListGrantsRequest { KeyId = r }),
        ["RetireGrant.KeyId"] = async (f, r) =>
        {
            var grant = await f.Kms.CreateGrantAsync(new CreateGrantRequest { KeyId = f.KeyId, GranteePrincipal = "arn:aws:iam::000000000000:role/app", Operations = [GrantOperation.Encrypt] });
            await f.Kms.RetireGrantAsync(new RetireGrantRequest { KeyId = r, GrantId = grant.GrantId });
        },
        ["RevokeGrant.KeyId"] = async (f, r) =>
        {
            var grant = await f.Kms.CreateGrantAsync(new CreateGrantRequest { KeyId = f.KeyId, GranteePrincipal = "arn:aws:iam::000000000000:role/app", Operations = [GrantOperation.Encrypt] });
            await f.Kms.RevokeGrantAsync(new RevokeGrantRequest { KeyId = r, GrantId = grant.GrantId });
        },
        ["SimulateAuthorization.KeyId"] = (f, r) => f.Kms.SimulateAuthorizationAsync(new SimulateAuthorizationRequest { KeyId = r, Principal = new CallerIdentity("arn:aws:iam::000000000000:role/app"), Operation = KmsOperation.Encrypt }),
        ["GetKeyLastUsage.KeyId"] = (f, r) => f.Kms.GetKeyLastUsageAsync(new GetKeyLastUsageRequest { KeyId = r }),
    };

    // ------------------------------------------------------------------ Markdown

    /// <summary>The rows (header first, separator dropped) of the one table whose header starts with <paramref name="headerStart"/>.</summary>
    private static List<List<string>> TableAfterHeader(string markdown, string headerStart)
    {
        var lines = markdown.Split('\n');
        var starts = Enumerable.Range(0, lines.Length).Where(i => lines[i].StartsWith(headerStart, StringComparison.Ordinal)).ToList();
        Assert.True(starts.Count == 1, $"{Document} must have exactly one table whose header starts with '{headerStart}'; it has {starts.Count}.");
        var table = new List<List<string>>();
        for (var i = starts[0]; i < lines.Length && lines[i].StartsWith('|'); i++)
        {
            if (i == starts[0] + 1)
            {
                Assert.Matches(@"^\|(\s*:?-+:?\s*\|)+$", lines[i]);
                continue;
            }

            table.Add([.. lines[i].Trim().Trim('|').Split('|').Select(c => c.Trim())]);
        }

        Assert.True(table.Count > 1, $"The table '{headerStart}' of {Document} has no rows.");
        return table;
    }

    private static string FirstCode(string cell)
    {
        var start = cell.IndexOf('`', StringComparison.Ordinal);
        var end = start < 0 ? -1 : cell.IndexOf('`', start + 1);
        return end > start ? cell[(start + 1)..end] : throw new FormatException($"The cell '{cell}' of {Document} names no `code`.");
    }

    private static string Unquote(string cell) => cell.Trim('`');
}
