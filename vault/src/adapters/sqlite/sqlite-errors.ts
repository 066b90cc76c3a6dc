/**
 * The one place where better-sqlite3 failures become domain errors (STYLE.md "Errors": library errors
 * are translated where they enter). Every Sqlite* adapter routes its calls through here.
 *
 * Classification is by `SqliteError.code` only (the extended result code, e.g.
 * SQLITE_CONSTRAINT_PRIMARYKEY), never by message text. Messages name the operation and the failure
 * class, never the SQL, the bound values or the driver's message (which may quote stored data); the
 * original error rides along as `cause` for the log.
 */
import Database from 'better-sqlite3';
import { KeywardError } from '../../core/errors.js';

const { SqliteError } = Database;

/** Seconds a client should wait after a transient storage failure (lock contention). */
const BUSY_RETRY_AFTER_SECONDS = 1;

function classify(code: string): { code: KeywardError['code']; what: string; retryAfterSeconds?: number } {
  switch (code) {
    case 'SQLITE_CONSTRAINT_PRIMARYKEY':
    case 'SQLITE_CONSTRAINT_UNIQUE':
      return { code: 'ERR_ALREADY_EXISTS', what: 'already exists' };
    default:
      break;
  }
  // Extended codes share the primary code as a prefix by definition (e.g. SQLITE_IOERR_FSYNC),
  // so the prefix test below classifies codes, not messages.
  const primary = code.replace(/^(SQLITE_[A-Z]+)(_[A-Z_]+)?$/, '$1');
  switch (primary) {
    case 'SQLITE_CONSTRAINT':
      // Foreign key, check, not-null, trigger: the write conflicts with stored state.
      return { code: 'ERR_CONFLICT', what: 'conflicts with stored state' };
    case 'SQLITE_BUSY':
    case 'SQLITE_LOCKED':
      return { code: 'ERR_INTERNAL', what: 'storage busy', retryAfterSeconds: BUSY_RETRY_AFTER_SECONDS };
    case 'SQLITE_READONLY':
      return { code: 'ERR_INTERNAL', what: 'storage is read-only' };
    case 'SQLITE_FULL':
      return { code: 'ERR_INTERNAL', what: 'storage full' };
    case 'SQLITE_IOERR':
    case 'SQLITE_CANTOPEN':
    case 'SQLITE_PROTOCOL':
      return { code: 'ERR_INTERNAL', what: 'storage I/O error' };
    case 'SQLITE_CORRUPT':
    case 'SQLITE_NOTADB':
      return { code: 'ERR_INTERNAL', what: 'storage corrupt' };
    default:
      return { code: 'ERR_INTERNAL', what: 'storage error' };
  }
}

/**
 * Turns anything thrown by a storage call into a KeywardError. KeywardErrors pass through unchanged
 * (an adapter may throw them from inside a transaction); `context` names the operation, e.g.
 * 'appendKeyVersion', and must not contain secrets.
 */
export function translateSqliteError(e: unknown, context: string): KeywardError {
  if (e instanceof KeywardError) return e;
  if (e instanceof SqliteError) {
    const c = classify(e.code);
    const options: { cause: unknown; retryAfterSeconds?: number } = { cause: e };
    if (c.retryAfterSeconds !== undefined) options.retryAfterSeconds = c.retryAfterSeconds;
    return new KeywardError(c.code, `${context}: ${c.what}`, options);
  }
  // e.g. TypeError('The database connection is not open') from the driver.
  return new KeywardError('ERR_INTERNAL', `${context}: storage error`, { cause: e });
}

/** Runs `fn` and translates whatever it throws; the usual wrapper around one adapter method body. */
export function withSqliteErrors<T>(context: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw translateSqliteError(e, context);
  }
}
