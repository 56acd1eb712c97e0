namespace EnvelopeKms.Tests.KeyManagement;

/// <summary>Every <see cref="KmsException"/> carries the AWS KMS error name as its stable error code.</summary>
public sealed class ErrorCodeTests
{
    private static readonly Dictionary<Type, string> Expected = new()
    {
        [typeof(KmsNotFoundException)] = "NotFoundException",
        [typeof(KmsDisabledException)] = "DisabledException",
        [typeof(KmsInvalidStateException)] = "KMSInvalidStateException",
        [typeof(KmsInvalidCiphertextException)] = "InvalidCiphertextException",
        [typeof(KmsIncorrectKeyException)] = "IncorrectKeyException",
        [typeof(KmsInvalidKeyUsageException)] = "InvalidKeyUsageException",
        [typeof(KmsValidationException)] = "ValidationException",
        [typeof(KmsAlreadyExistsException)] = "AlreadyExistsException",
        [typeof(KmsLimitExceededException)] = "LimitExceededException",
        [typeof(KmsAccessDeniedException)] = "AccessDeniedException",
        [typeof(KmsInvalidAliasNameException)] = "InvalidAliasNameException",
        [typeof(KmsInvalidArnException)] = "InvalidArnException",
        [typeof(KmsInvalidMarkerException)] = "InvalidMarkerException",
        [typeof(KmsTagException)] = "TagException",
        [typeof(KmsUnsupportedOperationException)] = "UnsupportedOperationException",
        [typeof(KmsConflictException)] = "ConflictException",
        [typeof(KmsKeyUnavailableException)] = "KeyUnavailableException",
        [typeof(KmsStorageUnavailableException)] = "StorageUnavailableException",
        [typeof(KmsStorageIntegrityException)] = "StorageIntegrityException",
        [typeof(KmsRootKeyException)] = "RootKeyException",
        [typeof(KmsAuditUnavailableException)] = "AuditUnavailableException",
        [typeof(KmsMalformedPolicyDocumentException)] = "MalformedPolicyDocumentException",
        [typeof(KmsInvalidGrantTokenException)] = "InvalidGrantTokenException",
        [typeof(KmsExpiredImportTokenException)] = "ExpiredImportTokenException",
        [typeof(KmsInvalidImportTokenException)] = "InvalidImportTokenException",
        [typeof(KmsIncorrectKeyMaterialException)] = "IncorrectKeyMaterialException",
        [typeof(KmsInvalidGrantIdException)] = "InvalidGrantIdException",
        [typeof(KmsDryRunOperationException)] = "DryRunOperationException",
        [typeof(KmsInternalException)] = "KMSInternalException",
        [typeof(KmsCustomKeyStoreInvalidStateException)] = "CustomKeyStoreInvalidStateException",
        [typeof(KmsCustomKeyStoreNotFoundException)] = "CustomKeyStoreNotFoundException",
        [typeof(KmsCustomKeyStoreNameInUseException)] = "CustomKeyStoreNameInUseException",
        [typeof(KmsCustomKeyStoreHasKeysException)] = "CustomKeyStoreHasCMKsException",
        [typeof(KmsDependencyTimeoutException)] = "DependencyTimeoutException",
        [typeof(KmsCloudHsmClusterNotFoundException)] = "CloudHsmClusterNotFoundException",
        [typeof(KmsCloudHsmClusterInvalidConfigurationException)] = "CloudHsmClusterInvalidConfigurationException",
        [typeof(KmsXksProxyUriUnreachableException)] = "XksProxyUriUnreachableException",
        [typeof(KmsXksProxyIncorrectAuthenticationCredentialException)] = "XksProxyIncorrectAuthenticationCredentialException",
        [typeof(KmsXksProxyInvalidResponseException)] = "XksProxyInvalidResponseException",
        [typeof(KmsXksProxyInvalidConfigurationException)] = "XksProxyInvalidConfigurationException",
        [typeof(KmsXksKeyNotFoundException)] = "XksKeyNotFoundException",
        [typeof(KmsXksKeyInvalidConfigurationException)] = "XksKeyInvalidConfigurationException",
        [typeof(KmsXksKeyAlreadyInUseException)] = "XksKeyAlreadyInUseException",
        [typeof(KmsCloudHsmClusterInUseException)] = "CloudHsmClusterInUseException",
        [typeof(KmsXksProxyUriInUseException)] = "XksProxyUriInUseException",
    };

    public static TheoryData<string> ExceptionTypes => [.. Expected.Keys.Select(t => t.Name)];

    [Theory]
    [MemberData(nameof(ExceptionTypes))]
    public void Each_exception_type_has_the_aws_kms_error_code(string typeName)
    {
        var (type, code) = Expected.Single(p => p.Key.Name == typeName);

        var withMessage = (KmsException)Activator.CreateInstance(type, "message")!;
        var inner = new InvalidOperationException("cause");
        var withCause = (KmsException)Activator.CreateInstance(type, "message", inner)!;

        Assert.Equal(code, withMessage.ErrorCode);
        Assert.Equal(code, withCause.ErrorCode);
        Assert.Equal("message", withMessage.Message);
        Assert.Same(inner, withCause.InnerException);
    }

    [Fact]
    public void Every_kms_exception_type_of_the_library_is_in_the_table()
    {
        var types = typeof(KmsException).Assembly.GetExportedTypes()
            .Where(t => t.IsSubclassOf(typeof(KmsException)) && !t.IsAbstract);

        Assert.Equal(Expected.Keys.Select(t => t.Name).Order(StringComparer.Ordinal), types.Select(t => t.Name).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void The_error_code_constants_are_the_aws_kms_names()
    {
        var constants = typeof(KmsErrorCodes).GetFields().Select(f => (string)f.GetRawConstantValue()!).ToHashSet();

        Assert.Superset(Expected.Values.ToHashSet(), constants);
        Assert.Equal(Expected.Values.Distinct().Count(), Expected.Count);
    }
}
