/**
 * Domain errors. Every error carries a stable `code`; nothing above this layer classifies an error
 * by its message (STYLE.md "Errors"). HTTP status is chosen in one table in the http layer
 * (vault/src/http/error-handler.ts), typed over `ErrorCode` so an unmapped code does not compile.
 *
 * Messages are written for the caller: they never contain key material, plaintext, tokens or PINs.
 */
export const ERROR_CODES = [
  'ERR_INVALID_INPUT', // a client's mistake in the request (schema, base64, ranges)
  'ERR_DECRYPTION_FAILED', // one message for tag, AAD, context, truncation and wrong-key failures
  'ERR_NOT_FOUND',
  'ERR_ALREADY_EXISTS',
  'ERR_CONFLICT', // state conflict: cas mismatch, deletion not allowed, version out of range
  'ERR_PRECONDITION', // a precondition header or state the caller must satisfy (412)
  'ERR_PERMISSION_DENIED', // missing/invalid token or policy denial: always "permission denied"
  'ERR_MFA_REQUIRED',
  'ERR_PAYLOAD_TOO_LARGE',
  'ERR_RATE_LIMITED',
  'ERR_METHOD_NOT_ALLOWED',
  'ERR_UNSUPPORTED', // an operation Keyward deliberately does not offer (e.g. exporting keys)
  'ERR_HSM_UNAVAILABLE', // the token is absent, slow or failing: retry later (503)
  'ERR_AUDIT_UNAVAILABLE', // audit fails closed: no entry, no operation (503)
  'ERR_SEALED', // the service is not ready to serve (503)
  'ERR_INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class KeywardError extends Error {
  readonly code: ErrorCode;
  /** Seconds a client should wait before retrying (429/503). */
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; retryAfterSeconds?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KeywardError';
    this.code = code;
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }
}

/** The one message for every decryption failure, so no oracle tells which part was wrong. */
export const DECRYPTION_FAILED_MESSAGE = 'decryption failed';
export const PERMISSION_DENIED_MESSAGE = 'permission denied';

export const invalidInput = (message: string): KeywardError => new KeywardError('ERR_INVALID_INPUT', message);
export const notFound = (message = 'not found'): KeywardError => new KeywardError('ERR_NOT_FOUND', message);
export const conflict = (message: string): KeywardError => new KeywardError('ERR_CONFLICT', message);
export const decryptionFailed = (cause?: unknown): KeywardError =>
  new KeywardError('ERR_DECRYPTION_FAILED', DECRYPTION_FAILED_MESSAGE, cause === undefined ? undefined : { cause });
export const permissionDenied = (): KeywardError => new KeywardError('ERR_PERMISSION_DENIED', PERMISSION_DENIED_MESSAGE);
export const hsmUnavailable = (message = 'HSM unavailable', cause?: unknown): KeywardError =>
  new KeywardError('ERR_HSM_UNAVAILABLE', message, { cause, retryAfterSeconds: 1 });

export const isKeywardError = (e: unknown): e is KeywardError => e instanceof KeywardError;
