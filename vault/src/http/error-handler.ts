/**
 * The one table from error code to HTTP status (fastify's habit): typed over ErrorCode, so adding
 * a code without a status does not compile. Bodies are Vault's `{"errors": [...]}`; a 5xx says only
 * "internal error" and the request id — details go to the log, which never holds secrets.
 */
import type { ErrorCode } from '../core/errors.js';
import { KeywardError } from '../core/errors.js';

export const STATUS_BY_CODE: { readonly [C in ErrorCode]: number } = {
  ERR_INVALID_INPUT: 400,
  ERR_DECRYPTION_FAILED: 400,
  ERR_NOT_FOUND: 404,
  ERR_ALREADY_EXISTS: 409,
  // Vault answers 400 for state conflicts (cas mismatch, "deletion is not allowed"); clients expect it.
  ERR_CONFLICT: 400,
  ERR_PRECONDITION: 412,
  ERR_PERMISSION_DENIED: 403,
  ERR_MFA_REQUIRED: 403,
  ERR_PAYLOAD_TOO_LARGE: 413,
  ERR_RATE_LIMITED: 429,
  ERR_METHOD_NOT_ALLOWED: 405,
  ERR_UNSUPPORTED: 400,
  ERR_HSM_UNAVAILABLE: 503,
  ERR_AUDIT_UNAVAILABLE: 503,
  ERR_SEALED: 503,
  ERR_INTERNAL: 500,
};

export interface ErrorReply {
  readonly status: number;
  readonly body: { errors: string[] };
  readonly retryAfterSeconds: number | undefined;
  readonly code: ErrorCode;
}

/** body-parser errors carry a stable `type`; map those, everything unknown is an internal error. */
function fromBodyParser(err: unknown): KeywardError | null {
  if (typeof err !== 'object' || err === null || !('type' in err)) return null;
  switch ((err as { type: unknown }).type) {
    case 'entity.too.large':
      return new KeywardError('ERR_PAYLOAD_TOO_LARGE', 'request body too large');
    case 'entity.parse.failed':
      return new KeywardError('ERR_INVALID_INPUT', 'failed to parse JSON input');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new KeywardError('ERR_INVALID_INPUT', 'unsupported request body encoding');
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
      return new KeywardError('ERR_INVALID_INPUT', 'malformed request body');
    default: {
      // Any other body-parser refusal is a client's mistake (it carries a 4xx status), never a 500.
      const status = (err as { status?: unknown }).status;
      return typeof status === 'number' && status >= 400 && status < 500 ? new KeywardError('ERR_INVALID_INPUT', 'malformed request body') : null;
    }
  }
}

/**
 * What a 5xx log line may say about an error: name, code, message and stack only. Library errors
 * can carry request data as properties (body-parser puts the raw body on `err.body`), so the
 * object is never logged as it is.
 */
export function loggableError(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { value: typeof err };
  const code = (err as { code?: unknown }).code;
  return { name: err.name, message: err.message, ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}), stack: err.stack };
}

export function toKeywardError(err: unknown): KeywardError {
  if (err instanceof KeywardError) return err;
  return fromBodyParser(err) ?? new KeywardError('ERR_INTERNAL', 'internal error', { cause: err });
}

export function errorReply(err: KeywardError, requestId: string): ErrorReply {
  const status = STATUS_BY_CODE[err.code];
  const message = status >= 500 && err.code === 'ERR_INTERNAL' ? `internal error (request id ${requestId})` : err.message;
  // Vault answers an unknown path / missing entry with an empty errors list.
  const errors = err.code === 'ERR_NOT_FOUND' && err.message === '' ? [] : [message];
  return { status, body: { errors }, retryAfterSeconds: err.retryAfterSeconds, code: err.code };
}
