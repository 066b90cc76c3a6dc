/**
 * Helpers shared by the transit use cases: strict base64 input, batch limits, per-item error policy,
 * bounded concurrency. No I/O of its own.
 *
 * Invariants:
 * - A batch holds at most MAX_BATCH_ITEMS items; larger is ERR_INVALID_INPUT before any work.
 * - Only a client's mistake about one item (bad input, failed decryption, a version the key refuses) is
 *   reported on that item; anything else (HSM down, store failure, internal) fails the whole request.
 * - At most ITEM_CONCURRENCY HSM calls of one request are in flight, so one big batch cannot monopolise
 *   the device's session pool.
 */
import { isStrictBase64 } from '../../core/base64.js';
import { KeywardError, invalidInput } from '../../core/errors.js';
import type { KeyStore, TransitKeyRecord } from '../../core/ports/key-store.js';
import type { Environment, KeyName } from '../../core/types.js';

export const MAX_BATCH_ITEMS = 10_000;
export const ITEM_CONCURRENCY = 32;

/** Strict standard base64 ('' is empty input); the error names the field, never echoes its value. */
export function decodeBase64Field(value: string, field: string): Buffer {
  if (!isStrictBase64(value)) throw invalidInput(`${field} must be valid base64`);
  return Buffer.from(value, 'base64');
}

export function optionalBase64(value: string | undefined, field: string): Buffer | undefined {
  return value === undefined || value === '' ? undefined : decodeBase64Field(value, field);
}

export function checkBatchSize(count: number): void {
  if (count < 1) throw invalidInput('missing batch input to process');
  if (count > MAX_BATCH_ITEMS) throw invalidInput(`batch_input holds more than ${MAX_BATCH_ITEMS} items`);
}

const ITEM_ERROR_CODES = new Set(['ERR_INVALID_INPUT', 'ERR_DECRYPTION_FAILED', 'ERR_CONFLICT', 'ERR_UNSUPPORTED']);

export function isItemError(e: unknown): e is KeywardError {
  return e instanceof KeywardError && ITEM_ERROR_CODES.has(e.code);
}

/** One item's outcome: its value, or the client error that stopped it. */
export type ItemOutcome<T> = ({ readonly ok: true } & T) | { readonly ok: false; readonly error: KeywardError };

/**
 * `fn` over every item, at most ITEM_CONCURRENCY at once (a single item — the common request — runs
 * inline): a client error on an item becomes `failure(error, item)`, the others still run; any other
 * error fails the whole request and stops the remaining items.
 */
async function mapItems<I, R>(items: readonly I[], fn: (item: I, index: number) => Promise<R>, failure: (error: KeywardError, item: I) => R): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const runOne = async (i: number): Promise<void> => {
    const item = items[i] as I;
    try {
      out[i] = await fn(item, i);
    } catch (e) {
      if (!isItemError(e)) {
        failed = true; // stop the other workers: the request fails as a whole
        throw e;
      }
      out[i] = failure(e, item);
    }
  };
  if (items.length === 1) {
    await runOne(0);
    return out;
  }
  const worker = async (): Promise<void> => {
    while (next < items.length && !failed) await runOne(next++);
  };
  await Promise.all(Array.from({ length: Math.min(ITEM_CONCURRENCY, items.length) }, worker));
  return out;
}

export function runItems<I, T extends object>(items: readonly I[], fn: (item: I, index: number) => Promise<T>): Promise<Array<ItemOutcome<T>>> {
  return mapItems<I, ItemOutcome<T>>(
    items,
    async (item, i) => ({ ok: true, ...(await fn(item, i)) }),
    (error) => ({ ok: false, error }),
  );
}

/** A client error on one item, with the caller's `reference` echoed. */
export interface ItemFailure {
  readonly ok: false;
  readonly error: KeywardError;
  readonly reference: string;
}

/**
 * runItems for encrypt and decrypt, which answer every item with its `reference`: `fn` builds the
 * whole success object (one shape, no re-spreading per item).
 */
export function runReferencedItems<I extends { readonly reference?: string | undefined }, S extends { readonly ok: true }>(
  items: readonly I[],
  fn: (item: I, index: number) => Promise<S>,
): Promise<Array<S | ItemFailure>> {
  return mapItems<I, S | ItemFailure>(items, fn, (error, item) => ({ ok: false, error, reference: item.reference ?? '' }));
}

/** Vault answers 400 "encryption key not found" when a data operation names a missing key. */
export async function getKeyForData(keys: Pick<KeyStore, 'getKey'>, env: Environment, name: KeyName): Promise<TransitKeyRecord> {
  const key = await keys.getKey(env, name);
  if (!key) throw invalidInput('encryption key not found');
  return key;
}

/** Vault answers 400 "key not found" when a management write names a missing key. */
export async function getKeyForWrite(keys: Pick<KeyStore, 'getKey'>, env: Environment, name: KeyName): Promise<TransitKeyRecord> {
  const key = await keys.getKey(env, name);
  if (!key) throw invalidInput('key not found');
  return key;
}
