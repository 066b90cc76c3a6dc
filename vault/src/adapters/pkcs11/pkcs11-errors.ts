/**
 * The one translation of PKCS#11 return values (CKR_*) into Keyward errors, by numeric code only.
 *
 * Invariants: callers never see a raw CKR; messages are fixed strings (no PIN, key bytes, labels of
 * secrets or library text); device, session and token failures are ERR_HSM_UNAVAILABLE with
 * retryAfterSeconds 1.
 */
import pkcs11js from 'pkcs11js';
import { KeywardError, hsmUnavailable } from '../../core/errors.js';

/**
 * The numeric CKR of a pkcs11js error. Most pkcs11js methods throw Pkcs11Error with `code`, but a
 * few (e.g. C_SetAttributeValue, overridden in pkcs11js's JS layer without its error wrapper) throw
 * the raw native error; for those we let pkcs11js's own Pkcs11Error constructor decode its native
 * "NAME:code" format rather than matching text ourselves.
 */
export function ckrOf(e: unknown): number | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'number' && code !== 0) return code;
  if (e instanceof Error) {
    const decoded = new pkcs11js.Pkcs11Error(e.message).code;
    if (decoded !== 0) return decoded;
  }
  return undefined;
}

const P = pkcs11js;

/** Sessions or the login are gone: reopen sessions, log in again, retry once. */
const SESSION_LOST = new Set<number>([
  P.CKR_SESSION_HANDLE_INVALID,
  P.CKR_SESSION_CLOSED,
  P.CKR_USER_NOT_LOGGED_IN,
  P.CKR_TOKEN_NOT_PRESENT,
  P.CKR_DEVICE_REMOVED,
  P.CKR_TOKEN_NOT_RECOGNIZED,
  P.CKR_SESSION_COUNT,
]);

/** The device or library is failing: the caller should retry later. */
const DEVICE_FAILURE = new Set<number>([
  ...SESSION_LOST,
  P.CKR_DEVICE_ERROR,
  P.CKR_DEVICE_MEMORY,
  P.CKR_HOST_MEMORY,
  P.CKR_CRYPTOKI_NOT_INITIALIZED,
  P.CKR_FUNCTION_FAILED,
  P.CKR_PIN_INCORRECT,
  P.CKR_PIN_LOCKED,
  P.CKR_PIN_EXPIRED,
  P.CKR_SLOT_ID_INVALID,
  P.CKR_OPERATION_ACTIVE,
  P.CKR_SESSION_READ_ONLY,
]);

/** A cached object handle no longer names an object: drop the cache entry, retry once. */
const HANDLE_STALE = new Set<number>([
  P.CKR_KEY_HANDLE_INVALID,
  P.CKR_OBJECT_HANDLE_INVALID,
  P.CKR_WRAPPING_KEY_HANDLE_INVALID,
  P.CKR_UNWRAPPING_KEY_HANDLE_INVALID,
]);

export const isSessionLost = (e: unknown): boolean => {
  const ckr = ckrOf(e);
  return ckr !== undefined && SESSION_LOST.has(ckr);
};

export const isHandleStale = (e: unknown): boolean => {
  const ckr = ckrOf(e);
  return ckr !== undefined && HANDLE_STALE.has(ckr);
};

/** Session lost, device failing, or a stale handle: never a property of the caller's data. */
export const isDeviceOrSessionFault = (e: unknown): boolean => {
  const ckr = ckrOf(e);
  return ckr !== undefined && (DEVICE_FAILURE.has(ckr) || HANDLE_STALE.has(ckr));
};

export const isCkr = (e: unknown, ckr: number): boolean => ckrOf(e) === ckr;

/**
 * Map any error thrown inside the adapter to a KeywardError. `what` names the operation in fixed
 * words ("seal", "sign"), never data. KeywardErrors raised by the adapter itself pass through.
 */
export function toKeywardError(e: unknown, what: string): KeywardError {
  if (e instanceof KeywardError) return e;
  const ckr = ckrOf(e);
  if (ckr !== undefined && DEVICE_FAILURE.has(ckr)) {
    return hsmUnavailable(`HSM unavailable during ${what}`, new Error(ckrName(ckr)));
  }
  // Anything else is a fault we did not expect from a well-formed request: internal, and the cause
  // keeps only the CKR name (pkcs11js messages are fixed names, but we do not forward them).
  return new KeywardError('ERR_INTERNAL', `HSM operation ${what} failed`, {
    cause: new Error(ckr === undefined ? 'non-PKCS#11 error' : ckrName(ckr)),
  });
}

const NAMES = new Map<number, string>();
for (const [name, value] of Object.entries(pkcs11js)) {
  if (name.startsWith('CKR_') && typeof value === 'number' && !NAMES.has(value)) NAMES.set(value, name);
}

/** "CKR_GENERAL_ERROR (0x5)": for logs and error causes; derived from the code, not a message. */
export function ckrName(ckr: number): string {
  return `${NAMES.get(ckr) ?? 'CKR_VENDOR_DEFINED'} (0x${ckr.toString(16)})`;
}
