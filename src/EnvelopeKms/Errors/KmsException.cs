namespace EnvelopeKms;

/// <summary>
/// The base of every error the key manager reports. <see cref="ErrorCode"/> is the stable AWS KMS
/// error code (<c>NotFoundException</c>, <c>KMSInvalidStateException</c>, ...), so code that switches on
/// AWS error codes keeps working. Messages never contain plaintext, key material or other secrets.
/// </summary>
public abstract class KmsException : Exception
{
    /// <summary>Initializes the exception.</summary>
    protected KmsException(string message, Exception? innerException = null) : base(message, innerException) { }

    /// <summary>The stable AWS KMS error code, for example <c>NotFoundException</c>.</summary>
    public abstract string ErrorCode { get; }
}

/// <summary>The request was rejected because the specified entity or resource could not be found. Error code <c>NotFoundException</c>.</summary>
public sealed class KmsNotFoundException : KmsException
{
    /// <summary>Initializes the exception with a message that names the problem.</summary>
    public KmsNotFoundException(string message) : base(message) { }

    /// <summary>Initializes the exception with a message and the underlying cause.</summary>
    public KmsNotFoundException(string message, Exception? innerException) : base(message, innerException) { }

    /// <inheritdoc />
    public override string ErrorCode => KmsErrorCodes.NotFound;
}

/// <summary>The request was rejected because the specified KMS key is not enabled. Error code <c>DisabledException</c>.</summary>
public sealed class KmsDisabledException : KmsException
{
    /// <summary>Initializes the exception with a message that names the problem.</summary>
    public KmsDisabledException(string message) : base(message) { }

    /// <summary>Initializes the exception with a message and the underlying cause.</summary>
    public KmsDisabledException(string message, Exception? innerException) : base(message, innerException) { }

    /// <inheritdoc />
    public override string ErrorCode => KmsErrorCodes.Disabled;
}

/// <summary>The request was rejected because the state of the specified resource is not valid for this request. Error code <c>KMSInvalidStateException</c>.</summary>
public sealed class KmsInvalidStateException : KmsException
{
    /// <summary>Initializes the exception with a message that names the problem.</summary>
    public KmsInvalidStateException(string message) : base(message) { }

    /// <summary>Initializes the exception with a message and the underlying cause.</summary>
    public KmsInvalidStateException(string message, Exception? innerException) : base(message, innerException) { }

    /// <inheritdoc />
    public override string ErrorCode => KmsErrorCodes.InvalidState;
}

/// <summary>The ciphertext is corrupt, truncated, was not produced by this key store, or does not match the key or encryption context given. For security the cause is not reported. Error code <c>InvalidCiphertextException</c>.</summary>
public sealed class KmsInvalidCiphertextException : KmsException
{
    /// <summary>Initializes the exception with a message that names the problem.</summary>
    public KmsInvalidCiphertextException(string message) : base(message) { }

    /// <summary>Initializes the exception with a message and the underlying cause.</summary>
    public KmsInvalidCiphertextException(string message, Exception? innerException) : base(message, innerException) { }

    /// <inheritdoc />
    public override string ErrorCode => KmsErrorCodes.InvalidCiphertext;
}

/// <summary>The key named in the request is not the key that encrypted the ciphertext. Error code <c>IncorrectKeyException</c>.</summary>
public sealed class KmsIncorrectKeyException : KmsException
{
    /// <summary>Initializes the exception with a message that names the problem.</summary>
    public KmsIncorrectKeyException(string message) : base(message) { }

    /// <summary>Initializes the exception with a message and the underlying cause.</summary>
    public KmsIncorrectKeyException(string message, Exception? innerException) : base(message, innerException) { }

    /// <inheritdoc />
    public override string ErrorCode => KmsErrorCodes.IncorrectKey;
}

/// <summary>The key's usage or key spec does not allow the requested operation or algorithm. Error code <c>InvalidKeyUsageException</c>.</summary>
public sealed class KmsInvalidKeyUsageException : KmsException
{
    /// <summary>Initializes the exception with a message that names the problem.</summary>
    public KmsInvalidKeyUsageException(string message) : base(message) { }

    /// <summary>Initializes the exception with a message and the underlying cause.</summary>
    public KmsInvalidKeyUsageException(string message, Exception? innerException) : base(message, innerException) { }

    /// <inheritdoc />
    public override string ErrorCode => KmsErrorCodes.InvalidKeyUsage;
}

/// <summary>The input fails to satisfy the constraints specified by the operation. Error code <c>ValidationException</c>.</summary>
public sealed class KmsValidationException : KmsException
{
    /// <summary>Initializes the exception with a message that names the problem.</summary>
    public KmsValidationException(string message) : base(message) { }

    /// <summary>Initializes the exception with a message and the underlying cause.</summary>
    public KmsValidationException(string message, Exception? innerException) : base(message, innerException) { }

    /// <inheritdoc />
    public override string ErrorCode => KmsErrorCodes.Validation;
}

/// <summary>The request was rejected because it attempted to create a resource that already exists. Error code <c>AlreadyExistsException</c>.</summary>
public sealed class KmsAlreadyExistsException : KmsException
{
    /// <summary>Initializes the exception with a message that names the problem.</summary>
    public KmsAlreadyExistsException(string message) : base(message) { }

    /// <summary>Initializes the exception with a message and the underlying cause.</summary>
    public KmsAlreadyExistsException(string message, Exception? innerException) : base(message, innerException) { }

    /// <inheritdoc />
    public override string ErrorCode => KmsErrorCodes.AlreadyExists;
}

/// <summary>The request was rejected because a quota was exceeded. Error code <c>LimitExceededException</c>.</summary>
public sealed class KmsLimitExceededException : KmsException
{
    /// <summary>Initializes the exception with a message that names the problem.</summary>
    public KmsLimitExceededException(string message) : base(message) { }

    /// <summary>Initializes the exception with a message and the underlying cause.</summary>
    public KmsLimitExceededException(string message, Exception? innerException) : base(message, innerException) { }

    /// <inheritdoc />
    public override string ErrorCode => KmsErrorCodes.LimitExceeded;
}

/// <summary>The caller is not authorized to perform the operation on the key. Error code <c>AccessDeniedException</c>.</summary>
public sealed class KmsAccessDeniedException : KmsException
{
    /// <summary>Initializes the exception with a message that names the problem.</summary>
    public KmsAccessDeniedException(string message) : base(message) { }

    /// <summary>Initializes the exception with a message and the underlying cause.</summary>
    public KmsAccessDeniedException(string message, Exception? innerException) : base(message, innerException) { }

    /// <inheritdoc />
    public override string ErrorCode => KmsErrorCodes.AccessDenied;
}

/// <summary>The request was rejected because the specified alias name is not valid. Error code <c>InvalidAliasNameException</c>.</summary>
public sealed class KmsInvalidAliasNameException : KmsException
{
    /// <summary>Initializes the exception with a message that names the problem.</summary>
    public KmsInvalidAliasNameException(string message) : base(message) { }

    /// <summary>Initializes the exception with a message and the underlying cause.</summary>
    public KmsInvalidAliasNameException(string message, Exception? innerException) : base(message, innerException) { }

    /// <inheritdoc />
    public override string ErrorCode => KmsErrorCodes.InvalidAliasName;
}

/// <summary>The request was rejected because a specified ARN is not valid. Error code <c>InvalidArnException</c>.</summary>
public sealed class KmsInvalidArnException : KmsException
{
    /// <summary>Initializes the exception with a message that names the problem.</summary>
    public KmsInvalidArnException(string message) : base(message) { }

    /// <summary>Initializes the exception with a message and the underlying cause.</summary>
    public KmsInvalidArnException(string message, Exception? innerException) : base(message, innerException) { }

    /// <inheritdoc />
    public override string ErrorCode => KmsErrorCodes.InvalidArn;
}

/// <summary>The request was rejected because the marker that specifies where pagination should next begin is not valid. Error code <c>InvalidMarkerException</c>.</summary>
public sealed class KmsInvalidMarkerException : KmsException
{
    /// <summary>Initializes the exception with a message that names the problem.</summary>
    public KmsInvalidMarkerException(string message) : base(message) { }

    /// <summary>Initializes the exception with a message and the underlying cause.</summary>
    public KmsInvalidMarkerException(string message, Exception? innerException) : base(message, innerException) { }

    /// <inheritdoc />
    public override string ErrorCode => KmsErrorCodes.InvalidMarker;
}

/// <summary>The request was rejected because one or more tags are not valid. Error code <c>TagException</c>.</summary>
public sealed class KmsTagException : KmsException
{
    /// <summary>Initializes the exception with a message that names the problem.</summary>
    public KmsTagException(string message) : base(message) { }

    /// <summary>Initializes the exception with a message and the underlying cause.</summary>
    public KmsTagException(string message, Exception? innerException) : base(message, innerException) { }

    /// <inheritdoc />
    public override string ErrorCode => KmsErrorCodes.Tag;
}

/// <summary>The request was rejected because a specified parameter is not supported or a specified resource is not valid for this operation. Error code <c>UnsupportedOperationException</c>.</summary>
public sealed class KmsUnsupportedOperationException : KmsException
{
    /// <summary>Initializes the exception with a message that names the problem.</summary>
    public KmsUnsupportedOperationException(string message) : base(message) { }

    /// <summary>Initializes the exception with a message and the underlying cause.</summary>
    public KmsUnsupportedOperationException(string message, Exception? innerException) : base(message, innerException) { }

    /// <inheritdoc />
    public override string ErrorCode => KmsErrorCodes.UnsupportedOperation;
}

/// <summary>The request was rejected because a concurrent change to the same resource kept winning; retry the request. Error code <c>ConflictException</c>.</summary>
public sealed class KmsConflictException : KmsException
{
    /// <summary>Initializes the exception with a message that names the problem.</summary>
    public KmsConflictException(string message) : base(message) { }

    /// <summary>Initializes the exception with a message and the underlying cause.</summary>
    public KmsConflictException(string message, Exception? innerException) : base(message, innerException) { }

    /// <inheritdoc />
    public override string ErrorCode => KmsErrorCodes.Conflict;
}

/// <summary>The key material is not available right now. Error code <c>KeyUnavailableException</c>.</summary>
public sealed class KmsKeyUnavailableException : KmsException
{
    /// <summary>Initializes the exception with a message that names the problem.</summary>
    public KmsKeyUnavailableException(string message) : base(message) { }

    /// <summary>Initializes the exception with a message and the underlying cause.</summary>
    public KmsKeyUnavailableException(string message, Exception? innerException) : base(message, innerException) { }

    /// <inheritdoc />
    public override string ErrorCode => KmsErrorCodes.KeyUnavailable;
}

/// <summary>The key store could not be reached or could not complete the request; no state was changed. Error code <c>StorageUnavailableException</c>.</summary>
public sealed class KmsStorageUnavailableException : KmsException
{
    /// <summary>Initializes the exception with a message that names the problem.</summary>
    public KmsStorageUnavailableException(string message) : base(message) { }

    /// <summary>Initializes the exception with a message and the underlying cause.</summary>
    public KmsStorageUnavailableException(string message, Exception? innerException) : base(message, innerException) { }

    /// <inheritdoc />
    public override string ErrorCode => KmsErrorCodes.StorageUnavailable;
}

/// <summary>A stored record failed its integrity check; the record is left as it is for investigation. Error code <c>StorageIntegrityException</c>.</summary>
public sealed class KmsStorageIntegrityException : KmsException
{
    /// <summary>Initializes the exception with a message that names the problem.</summary>
    public KmsStorageIntegrityException(string message) : base(message) { }

    /// <summary>Initializes the exception with a message and the underlying cause.</summary>
    public KmsStorageIntegrityException(string message, Exception? innerException) : base(message, innerException) { }

    /// <inheritdoc />
    public override string ErrorCode => KmsErrorCodes.StorageIntegrity;
}

/// <summary>The root key that protects the key store is missing or is not the one the store was created with. Error code <c>RootKeyException</c>.</summary>
public sealed class KmsRootKeyException : KmsException
{
    /// <summary>Initializes the exception with a message that names the problem.</summary>
    public KmsRootKeyException(string message) : base(message) { }

    /// <summary>Initializes the exception with a message and the underlying cause.</summary>
    public KmsRootKeyException(string message, Exception? innerException) : base(message, innerException) { }

    /// <inheritdoc />
    public override string ErrorCode => KmsErrorCodes.RootKey;
}

/// <summary>The audit sink did not accept the record, so the operation was not completed. Error code <c>AuditUnavailableException</c>.</summary>
public sealed class KmsAuditUnavailableException : KmsException
{
    /// <summary>Initializes the exception with a message that names the problem.</summary>
    public KmsAuditUnavailableException(string message) : base(message) { }

    /// <summary>Initializes the exception with a message and the underlying cause.</summary>
    public KmsAuditUnavailableException(string message, Exception? innerException) : base(message, innerException) { }

    /// <inheritdoc />
    public override string ErrorCode => KmsErrorCodes.AuditUnavailable;
}

/// <summary>An internal error occurred. Error code <c>KMSInternalException</c>.</summary>
public sealed class KmsInternalException : KmsException
{
    /// <summary>Initializes the exception with a message that names the problem.</summary>
    public KmsInternalException(string message) : base(message) { }

    /// <summary>Initializes the exception with a message and the underlying cause.</summary>
    public KmsInternalException(string message, Exception? innerException) : base(message, innerException) { }

    /// <inheritdoc />
    public override string ErrorCode => KmsErrorCodes.Internal;
}


/// <summary>The key policy (or identity policy) is not a valid policy document; the message says what is wrong and where. The previous policy is unchanged. Error code <c>MalformedPolicyDocumentException</c>.</summary>
public sealed class KmsMalformedPolicyDocumentException : KmsException
{
    /// <summary>Initializes the exception with a message that names the problem.</summary>
    public KmsMalformedPolicyDocumentException(string message) : base(message) { }

    /// <summary>Initializes the exception with a message and the underlying cause.</summary>
    public KmsMalformedPolicyDocumentException(string message, Exception? innerException) : base(message, innerException) { }

    /// <inheritdoc />
    public override string ErrorCode => KmsErrorCodes.MalformedPolicyDocument;
}

/// <summary>A grant token in the request is not valid: malformed, not issued by this key manager, for another key, or more than 10 tokens were given. Error code <c>InvalidGrantTokenException</c>.</summary>
public sealed class KmsInvalidGrantTokenException : KmsException
{
    /// <summary>Initializes the exception with a message that names the problem.</summary>
    public KmsInvalidGrantTokenException(string message) : base(message) { }

    /// <summary>Initializes the exception with a message and the underlying cause.</summary>
    public KmsInvalidGrantTokenException(string message, Exception? innerException) : base(message, innerException) { }

    /// <inheritdoc />
    public override string ErrorCode => KmsErrorCodes.InvalidGrantToken;
}

/// <summary>The grant id is not valid for the key named in the request. Error code <c>InvalidGrantIdException</c>.</summary>
public sealed class KmsInvalidGrantIdException : KmsException
{
    /// <summary>Initializes the exception with a message that names the problem.</summary>
    public KmsInvalidGrantIdException(string message) : base(message) { }

    /// <summary>Initializes the exception with a message and the underlying cause.</summary>
    public KmsInvalidGrantIdException(string message, Exception? innerException) : base(message, innerException) { }

    /// <inheritdoc />
    public override string ErrorCode => KmsErrorCodes.InvalidGrantId;
}

/// <summary>The request had <c>DryRun</c> set and would have succeeded: the caller is authorized and the request is valid; nothing ran. Error code <c>DryRunOperationException</c>.</summary>
public sealed class KmsDryRunOperationException : KmsException
{
    /// <summary>Initializes the exception with a message that names the problem.</summary>
    public KmsDryRunOperationException(string message) : base(message) { }

    /// <summary>Initializes the exception with a message and the underlying cause.</summary>
    public KmsDryRunOperationException(string message, Exception? innerException) : base(message, innerException) { }

    /// <inheritdoc />
    public override string ErrorCode => KmsErrorCodes.DryRunOperation;
}

/// <summary>
/// The request was rejected because of the connection state of the custom key store (not connected,
/// connecting, disconnecting, or failed); a failed connection attempt reports its
/// <see cref="ConnectionErrorCode"/> here. Error code <c>CustomKeyStoreInvalidStateException</c>.
/// </summary>
public sealed class KmsCustomKeyStoreInvalidStateException : KmsException
{
    /// <summary>Initializes the exception with a message that names the problem.</summary>
    public KmsCustomKeyStoreInvalidStateException(string message) : base(message) { }

    /// <summary>Initializes the exception with a message and the underlying cause.</summary>
    public KmsCustomKeyStoreInvalidStateException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>Initializes the exception with the store's connection state and, when it failed, why.</summary>
    public KmsCustomKeyStoreInvalidStateException(string message, CustomKeyStores.CustomKeyStoreConnectionState connectionState, CustomKeyStores.CustomKeyStoreConnectionErrorCode? connectionErrorCode, Exception? innerException = null)
        : base(message, innerException)
    {
        ConnectionState = connectionState;
        ConnectionErrorCode = connectionErrorCode;
    }

    /// <summary>The store's connection state when the request was rejected, when known.</summary>
    public CustomKeyStores.CustomKeyStoreConnectionState? ConnectionState { get; }

    /// <summary>Why the store is failed (for example <c>INVALID_CREDENTIALS</c>), when it is.</summary>
    public CustomKeyStores.CustomKeyStoreConnectionErrorCode? ConnectionErrorCode { get; }

    /// <inheritdoc />
    public override string ErrorCode => KmsErrorCodes.CustomKeyStoreInvalidState;
}

/// <summary>No custom key store has the given name or id. Error code <c>CustomKeyStoreNotFoundException</c>.</summary>
public sealed class KmsCustomKeyStoreNotFoundException : KmsException
{
    /// <summary>Initializes the exception with a message that names the problem.</summary>
    public KmsCustomKeyStoreNotFoundException(string message) : base(message) { }

    /// <summary>Initializes the exception with a message and the underlying cause.</summary>
    public KmsCustomKeyStoreNotFoundException(string message, Exception? innerException) : base(message, innerException) { }

    /// <inheritdoc />
    public override string ErrorCode => KmsErrorCodes.CustomKeyStoreNotFound;
}

/// <summary>The custom key store name is already used by another custom key store. Error code <c>CustomKeyStoreNameInUseException</c>.</summary>
public sealed class KmsCustomKeyStoreNameInUseException : KmsException
{
    /// <summary>Initializes the exception with a message that names the problem.</summary>
    public KmsCustomKeyStoreNameInUseException(string message) : base(message) { }

    /// <summary>Initializes the exception with a message and the underlying cause.</summary>
    public KmsCustomKeyStoreNameInUseException(string message, Exception? innerException) : base(message, innerException) { }

    /// <inheritdoc />
    public override string ErrorCode => KmsErrorCodes.CustomKeyStoreNameInUse;
}

/// <summary>The custom key store still contains KMS keys; delete them before deleting the store. Error code <c>CustomKeyStoreHasCMKsException</c>.</summary>
public sealed class KmsCustomKeyStoreHasKeysException : KmsException
{
    /// <summary>Initializes the exception with a message that names the problem.</summary>
    public KmsCustomKeyStoreHasKeysException(string message) : base(message) { }

    /// <summary>Initializes the exception with a message and the underlying cause.</summary>
    public KmsCustomKeyStoreHasKeysException(string message, Exception? innerException) : base(message, innerException) { }

    /// <inheritdoc />
    public override string ErrorCode => KmsErrorCodes.CustomKeyStoreHasKeys;
}

/// <summary>A dependency (an HSM, an external key store proxy) did not answer in time; the request can be retried. Error code <c>DependencyTimeoutException</c>.</summary>
public sealed class KmsDependencyTimeoutException : KmsException
{
    /// <summary>Initializes the exception with a message that names the problem.</summary>
    public KmsDependencyTimeoutException(string message) : base(message) { }

    /// <summary>Initializes the exception with a message and the underlying cause.</summary>
    public KmsDependencyTimeoutException(string message, Exception? innerException) : base(message, innerException) { }

    /// <inheritdoc />
    public override string ErrorCode => KmsErrorCodes.DependencyTimeout;
}

/// <summary>The HSM of an HSM key store cannot be found (for PKCS#11: the module or the token). Error code <c>CloudHsmClusterNotFoundException</c>.</summary>
public sealed class KmsCloudHsmClusterNotFoundException : KmsException
{
    /// <summary>Initializes the exception with a message that names the problem.</summary>
    public KmsCloudHsmClusterNotFoundException(string message) : base(message) { }

    /// <summary>Initializes the exception with a message and the underlying cause.</summary>
    public KmsCloudHsmClusterNotFoundException(string message, Exception? innerException) : base(message, innerException) { }

    /// <inheritdoc />
    public override string ErrorCode => KmsErrorCodes.CloudHsmClusterNotFound;
}

/// <summary>The HSM of an HSM key store does not meet the requirements (for PKCS#11: the token lacks a mechanism or is not initialized). Error code <c>CloudHsmClusterInvalidConfigurationException</c>.</summary>
public sealed class KmsCloudHsmClusterInvalidConfigurationException : KmsException
{
    /// <summary>Initializes the exception with a message that names the problem.</summary>
    public KmsCloudHsmClusterInvalidConfigurationException(string message) : base(message) { }

    /// <summary>Initializes the exception with a message and the underlying cause.</summary>
    public KmsCloudHsmClusterInvalidConfigurationException(string message, Exception? innerException) : base(message, innerException) { }

    /// <inheritdoc />
    public override string ErrorCode => KmsErrorCodes.CloudHsmClusterInvalidConfiguration;
}

/// <summary>The external key store proxy cannot be reached, or reported itself unhealthy. Error code <c>XksProxyUriUnreachableException</c>.</summary>
public sealed class KmsXksProxyUriUnreachableException : KmsException
{
    /// <summary>Initializes the exception with a message that names the problem.</summary>
    public KmsXksProxyUriUnreachableException(string message) : base(message) { }

    /// <summary>Initializes the exception with a message and the underlying cause.</summary>
    public KmsXksProxyUriUnreachableException(string message, Exception? innerException) : base(message, innerException) { }

    /// <inheritdoc />
    public override string ErrorCode => KmsErrorCodes.XksProxyUriUnreachable;
}

/// <summary>The external key store proxy rejected the authentication credential. Error code <c>XksProxyIncorrectAuthenticationCredentialException</c>.</summary>
public sealed class KmsXksProxyIncorrectAuthenticationCredentialException : KmsException
{
    /// <summary>Initializes the exception with a message that names the problem.</summary>
    public KmsXksProxyIncorrectAuthenticationCredentialException(string message) : base(message) { }

    /// <summary>Initializes the exception with a message and the underlying cause.</summary>
    public KmsXksProxyIncorrectAuthenticationCredentialException(string message, Exception? innerException) : base(message, innerException) { }

    /// <inheritdoc />
    public override string ErrorCode => KmsErrorCodes.XksProxyIncorrectAuthenticationCredential;
}

/// <summary>The response of the external key store proxy cannot be interpreted. Error code <c>XksProxyInvalidResponseException</c>.</summary>
public sealed class KmsXksProxyInvalidResponseException : KmsException
{
    /// <summary>Initializes the exception with a message that names the problem.</summary>
    public KmsXksProxyInvalidResponseException(string message) : base(message) { }

    /// <summary>Initializes the exception with a message and the underlying cause.</summary>
    public KmsXksProxyInvalidResponseException(string message, Exception? innerException) : base(message, innerException) { }

    /// <inheritdoc />
    public override string ErrorCode => KmsErrorCodes.XksProxyInvalidResponse;
}

/// <summary>The configuration of the external key store proxy is not valid. Error code <c>XksProxyInvalidConfigurationException</c>.</summary>
public sealed class KmsXksProxyInvalidConfigurationException : KmsException
{
    /// <summary>Initializes the exception with a message that names the problem.</summary>
    public KmsXksProxyInvalidConfigurationException(string message) : base(message) { }

    /// <summary>Initializes the exception with a message and the underlying cause.</summary>
    public KmsXksProxyInvalidConfigurationException(string message, Exception? innerException) : base(message, innerException) { }

    /// <inheritdoc />
    public override string ErrorCode => KmsErrorCodes.XksProxyInvalidConfiguration;
}

/// <summary>The external key store has no key with the given external key id. Error code <c>XksKeyNotFoundException</c>.</summary>
public sealed class KmsXksKeyNotFoundException : KmsException
{
    /// <summary>Initializes the exception with a message that names the problem.</summary>
    public KmsXksKeyNotFoundException(string message) : base(message) { }

    /// <summary>Initializes the exception with a message and the underlying cause.</summary>
    public KmsXksKeyNotFoundException(string message, Exception? innerException) : base(message, innerException) { }

    /// <inheritdoc />
    public override string ErrorCode => KmsErrorCodes.XksKeyNotFound;
}

/// <summary>The external key is not usable: not a 256-bit AES key, or not enabled for encryption and decryption. Error code <c>XksKeyInvalidConfigurationException</c>.</summary>
public sealed class KmsXksKeyInvalidConfigurationException : KmsException
{
    /// <summary>Initializes the exception with a message that names the problem.</summary>
    public KmsXksKeyInvalidConfigurationException(string message) : base(message) { }

    /// <summary>Initializes the exception with a message and the underlying cause.</summary>
    public KmsXksKeyInvalidConfigurationException(string message, Exception? innerException) : base(message, innerException) { }

    /// <inheritdoc />
    public override string ErrorCode => KmsErrorCodes.XksKeyInvalidConfiguration;
}

/// <summary>The external key is already associated with another KMS key in the store. Error code <c>XksKeyAlreadyInUseException</c>.</summary>
public sealed class KmsXksKeyAlreadyInUseException : KmsException
{
    /// <summary>Initializes the exception with a message that names the problem.</summary>
    public KmsXksKeyAlreadyInUseException(string message) : base(message) { }

    /// <summary>Initializes the exception with a message and the underlying cause.</summary>
    public KmsXksKeyAlreadyInUseException(string message, Exception? innerException) : base(message, innerException) { }

    /// <inheritdoc />
    public override string ErrorCode => KmsErrorCodes.XksKeyAlreadyInUse;
}

/// <summary>The import token is more than 24 hours old: call <c>GetParametersForImport</c> again. Error code <c>ExpiredImportTokenException</c>.</summary>
public sealed class KmsExpiredImportTokenException : KmsException
{
    /// <summary>Initializes the exception with a message that names the problem.</summary>
    public KmsExpiredImportTokenException(string message) : base(message) { }

    /// <summary>Initializes the exception with a message and the underlying cause.</summary>
    public KmsExpiredImportTokenException(string message, Exception? innerException) : base(message, innerException) { }

    /// <inheritdoc />
    public override string ErrorCode => KmsErrorCodes.ExpiredImportToken;
}

/// <summary>The import token is malformed, was not issued by this key manager, was issued for another key, or was already used. Error code <c>InvalidImportTokenException</c>.</summary>
public sealed class KmsInvalidImportTokenException : KmsException
{
    /// <summary>Initializes the exception with a message that names the problem.</summary>
    public KmsInvalidImportTokenException(string message) : base(message) { }

    /// <summary>Initializes the exception with a message and the underlying cause.</summary>
    public KmsInvalidImportTokenException(string message, Exception? innerException) : base(message, innerException) { }

    /// <inheritdoc />
    public override string ErrorCode => KmsErrorCodes.InvalidImportToken;
}

/// <summary>The imported key material is not valid for the key (wrong length) or is not the material the key had before. Error code <c>IncorrectKeyMaterialException</c>.</summary>
public sealed class KmsIncorrectKeyMaterialException : KmsException
{
    /// <summary>Initializes the exception with a message that names the problem.</summary>
    public KmsIncorrectKeyMaterialException(string message) : base(message) { }

    /// <summary>Initializes the exception with a message and the underlying cause.</summary>
    public KmsIncorrectKeyMaterialException(string message, Exception? innerException) : base(message, innerException) { }

    /// <inheritdoc />
    public override string ErrorCode => KmsErrorCodes.IncorrectKeyMaterial;
}

/// <summary>The stable error codes of <see cref="KmsException"/>, as AWS KMS names them.</summary>
public static class KmsErrorCodes
{
    /// <summary><c>NotFoundException</c>.</summary>
    public const string NotFound = "NotFoundException";
    /// <summary><c>DisabledException</c>.</summary>
    public const string Disabled = "DisabledException";
    /// <summary><c>KMSInvalidStateException</c>.</summary>
    public const string InvalidState = "KMSInvalidStateException";
    /// <summary><c>InvalidCiphertextException</c>.</summary>
    public const string InvalidCiphertext = "InvalidCiphertextException";
    /// <summary><c>IncorrectKeyException</c>.</summary>
    public const string IncorrectKey = "IncorrectKeyException";
    /// <summary><c>InvalidKeyUsageException</c>.</summary>
    public const string InvalidKeyUsage = "InvalidKeyUsageException";
    /// <summary><c>ValidationException</c>.</summary>
    public const string Validation = "ValidationException";
    /// <summary><c>AlreadyExistsException</c>.</summary>
    public const string AlreadyExists = "AlreadyExistsException";
    /// <summary><c>LimitExceededException</c>.</summary>
    public const string LimitExceeded = "LimitExceededException";
    /// <summary><c>AccessDeniedException</c>.</summary>
    public const string AccessDenied = "AccessDeniedException";
    /// <summary><c>InvalidAliasNameException</c>.</summary>
    public const string InvalidAliasName = "InvalidAliasNameException";
    /// <summary><c>InvalidArnException</c>.</summary>
    public const string InvalidArn = "InvalidArnException";
    /// <summary><c>InvalidMarkerException</c>.</summary>
    public const string InvalidMarker = "InvalidMarkerException";
    /// <summary><c>TagException</c>.</summary>
    public const string Tag = "TagException";
    /// <summary><c>UnsupportedOperationException</c>.</summary>
    public const string UnsupportedOperation = "UnsupportedOperationException";
    /// <summary><c>ConflictException</c>.</summary>
    public const string Conflict = "ConflictException";
    /// <summary><c>KeyUnavailableException</c>.</summary>
    public const string KeyUnavailable = "KeyUnavailableException";
    /// <summary><c>StorageUnavailableException</c>.</summary>
    public const string StorageUnavailable = "StorageUnavailableException";
    /// <summary><c>StorageIntegrityException</c>.</summary>
    public const string StorageIntegrity = "StorageIntegrityException";
    /// <summary><c>RootKeyException</c>.</summary>
    public const string RootKey = "RootKeyException";
    /// <summary><c>AuditUnavailableException</c>.</summary>
    public const string AuditUnavailable = "AuditUnavailableException";
    /// <summary><c>MalformedPolicyDocumentException</c>.</summary>
    public const string MalformedPolicyDocument = "MalformedPolicyDocumentException";
    /// <summary><c>InvalidGrantTokenException</c>.</summary>
    public const string InvalidGrantToken = "InvalidGrantTokenException";
    /// <summary><c>InvalidGrantIdException</c>.</summary>
    public const string InvalidGrantId = "InvalidGrantIdException";
    /// <summary><c>DryRunOperationException</c>.</summary>
    public const string DryRunOperation = "DryRunOperationException";
    /// <summary><c>KMSInternalException</c>.</summary>
    public const string Internal = "KMSInternalException";
    /// <summary><c>CustomKeyStoreInvalidStateException</c>.</summary>
    public const string CustomKeyStoreInvalidState = "CustomKeyStoreInvalidStateException";
    /// <summary><c>CustomKeyStoreNotFoundException</c>.</summary>
    public const string CustomKeyStoreNotFound = "CustomKeyStoreNotFoundException";
    /// <summary><c>CustomKeyStoreNameInUseException</c>.</summary>
    public const string CustomKeyStoreNameInUse = "CustomKeyStoreNameInUseException";
    /// <summary><c>CustomKeyStoreHasCMKsException</c>.</summary>
    public const string CustomKeyStoreHasKeys = "CustomKeyStoreHasCMKsException";
    /// <summary><c>DependencyTimeoutException</c>.</summary>
    public const string DependencyTimeout = "DependencyTimeoutException";
    /// <summary><c>CloudHsmClusterNotFoundException</c>.</summary>
    public const string CloudHsmClusterNotFound = "CloudHsmClusterNotFoundException";
    /// <summary><c>CloudHsmClusterInvalidConfigurationException</c>.</summary>
    public const string CloudHsmClusterInvalidConfiguration = "CloudHsmClusterInvalidConfigurationException";
    /// <summary><c>XksProxyUriUnreachableException</c>.</summary>
    public const string XksProxyUriUnreachable = "XksProxyUriUnreachableException";
    /// <summary><c>XksProxyIncorrectAuthenticationCredentialException</c>.</summary>
    public const string XksProxyIncorrectAuthenticationCredential = "XksProxyIncorrectAuthenticationCredentialException";
    /// <summary><c>XksProxyInvalidResponseException</c>.</summary>
    public const string XksProxyInvalidResponse = "XksProxyInvalidResponseException";
    /// <summary><c>XksProxyInvalidConfigurationException</c>.</summary>
    public const string XksProxyInvalidConfiguration = "XksProxyInvalidConfigurationException";
    /// <summary><c>XksKeyNotFoundException</c>.</summary>
    public const string XksKeyNotFound = "XksKeyNotFoundException";
    /// <summary><c>XksKeyInvalidConfigurationException</c>.</summary>
    public const string XksKeyInvalidConfiguration = "XksKeyInvalidConfigurationException";
    /// <summary><c>XksKeyAlreadyInUseException</c>.</summary>
    public const string XksKeyAlreadyInUse = "XksKeyAlreadyInUseException";
    /// <summary><c>ExpiredImportTokenException</c>.</summary>
    public const string ExpiredImportToken = "ExpiredImportTokenException";
    /// <summary><c>InvalidImportTokenException</c>.</summary>
    public const string InvalidImportToken = "InvalidImportTokenException";
    /// <summary><c>IncorrectKeyMaterialException</c>.</summary>
    public const string IncorrectKeyMaterial = "IncorrectKeyMaterialException";
    /// <summary><c>CloudHsmClusterInUseException</c>.</summary>
    public const string CloudHsmClusterInUse = "CloudHsmClusterInUseException";
    /// <summary><c>XksProxyUriInUseException</c>.</summary>
    public const string XksProxyUriInUse = "XksProxyUriInUseException";
}
