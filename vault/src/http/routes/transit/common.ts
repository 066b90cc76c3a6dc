/**
 * Shared pieces of the transit routes: the key name from the path, Vault's key-read shape, the batch
 * status rule and the ciphertext reply of encrypt and rewrap. Encoding only; every decision is in the use cases and core/keyring.ts.
 */
import type { Request } from 'express';
import { z } from 'zod';
import { invalidInput } from '../../../core/errors.js';
import type { TransitKeyRecord } from '../../../core/ports/key-store.js';
import { parseKeyName, type KeyName } from '../../../core/types.js';
import type { Reply, RequestContext } from '../../route-spec.js';
import { vInt } from '../../schema.js';

export function keyNameOf(req: Request, ctx: RequestContext): KeyName {
  const name = parseKeyName(String(req.params['name'] ?? ''));
  ctx.audit.keyName = name;
  return name;
}

const seconds = (d: Date): number => Math.floor(d.getTime() / 1000);

/** Vault's `GET transit/keys/:name` data. */
export function keyData(key: TransitKeyRecord): Record<string, unknown> {
  const keys: Record<string, number> = {};
  for (const v of key.versions) if (v.wrappedKek !== null) keys[String(v.version)] = seconds(v.createdAt);
  return {
    name: key.name,
    type: key.type,
    keys,
    latest_version: key.latestVersion,
    min_available_version: key.minAvailableVersion,
    min_decryption_version: key.config.minDecryptionVersion,
    min_encryption_version: key.config.minEncryptionVersion,
    deletion_allowed: key.config.deletionAllowed,
    derived: key.derived,
    exportable: key.config.exportable,
    allow_plaintext_backup: key.config.allowPlaintextBackup,
    auto_rotate_period: key.config.autoRotatePeriodSeconds,
    imported_key: false,
    supports_encryption: true,
    supports_decryption: true,
    supports_derivation: true,
    supports_signing: false,
    // Keyward binds the context into the sealed DEK's AAD as SHA-256(context) rather than deriving a key.
    ...(key.derived ? { kdf: 'sha256_context_binding', convergent_encryption: false } : {}),
  };
}

/** `partial_failure_response_code`: a status for batches where some, not all, items failed. */
export const vStatusCode = vInt.refine((n) => n >= 200 && n <= 599, { message: 'must be an HTTP status code' });

/** Vault: all ok → 200; all failed → 400; some failed → partial_failure_response_code (default 400). */
export function batchStatus(items: ReadonlyArray<{ readonly ok: boolean }>, partialCode: number | undefined): number | undefined {
  const failed = items.filter((i) => !i.ok).length;
  if (failed === 0) return undefined;
  if (failed === items.length) return 400;
  return partialCode ?? 400;
}

/** One encrypt or rewrap item as the use cases answer it. */
export type SealedItem = ({ readonly ok: true; readonly ciphertext: string; readonly keyVersion: number } | { readonly ok: false; readonly error: Error }) & {
  readonly reference: string;
};

/**
 * Vault's answer to encrypt and rewrap: a single item answers its ciphertext (its failure is thrown,
 * so it answers as any error); a batch answers `batch_results` in input order, each item's error
 * in its place, with the batch status rule.
 */
export function ciphertextReply(ctx: RequestContext, items: readonly SealedItem[], isBatch: boolean, partialCode: number | undefined): Reply {
  if (!isBatch) {
    const one = items[0];
    if (!one?.ok) throw one?.error;
    ctx.audit.keyVersion = one.keyVersion;
    return { data: { ciphertext: one.ciphertext, key_version: one.keyVersion } };
  }
  ctx.audit.details['batch_size'] = items.length;
  const batch_results = items.map((i) =>
    i.ok ? { ciphertext: i.ciphertext, key_version: i.keyVersion, reference: i.reference } : { error: i.error.message, reference: i.reference },
  );
  return { status: batchStatus(items, partialCode), data: { batch_results } };
}

/** The body must name a batch or a single item; Vault clients send `plaintext: null` beside a batch. */
export function batchOrSingle<T>(batch: readonly T[] | undefined, single: T | undefined, missing: string): { items: readonly T[]; isBatch: boolean } {
  if (batch !== undefined) return { items: batch, isBatch: true };
  if (single === undefined) throw invalidInput(missing);
  return { items: [single], isBatch: false };
}

export const optString = z.string().nullish().transform((s) => s ?? undefined);
