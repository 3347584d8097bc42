/**
 * KMS error types. Every deterministic client error is HTTP 400 with
 * `{"__type": name, "message": ...}`; only injected faults are 5xx, because the
 * AWS SDK retries 5xx (and throttling) but must not retry deterministic errors.
 */
export class KmsError extends Error {
  constructor(
    /** The `__type` the AWS SDK maps to an exception class (err.name). */
    readonly code: string,
    message: string,
    readonly httpStatus = 400,
  ) {
    super(message);
    this.name = code;
  }
}

export const notFound = (message: string) => new KmsError("NotFoundException", message);
export const validation = (message: string) => new KmsError("ValidationException", message);
export const disabled = (arn: string) => new KmsError("DisabledException", `${arn} is disabled.`);
export const invalidState = (message: string) => new KmsError("KMSInvalidStateException", message);
export const invalidKeyUsage = (message: string) => new KmsError("InvalidKeyUsageException", message);
export const invalidSignature = () => new KmsError("KMSInvalidSignatureException", "");
export const alreadyExists = (message: string) => new KmsError("AlreadyExistsException", message);
export const unknownOperation = () => new KmsError("UnknownOperationException", "");
export const serialization = (message: string) => new KmsError("SerializationException", message);
export const tagError = (message: string) => new KmsError("TagException", message);
export const malformedPolicy = (message: string) => new KmsError("MalformedPolicyDocumentException", message);
export const unsupportedOperation = (message: string) => new KmsError("UnsupportedOperationException", message);
export const throttling = () => new KmsError("ThrottlingException", "Rate exceeded");
export const internal = (message = "Internal failure") => new KmsError("KMSInternalException", message, 500);
