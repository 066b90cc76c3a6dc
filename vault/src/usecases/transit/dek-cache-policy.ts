/**
 * Which transit requests may use the optional DEK cache (core/dek-cache.ts), and the two code paths
 * that use it: seal one message with a cached-or-fresh DEK, open one message with a cached-or-HSM DEK.
 *
 * Invariants:
 * - Keys on the opt-out list (`env/name`, or `name` for every environment) never touch the cache.
 * - A fresh DEK is remembered only after its message sealed; an opened DEK only after its data tag
 *   verified, so a forged message can never plant a cache entry.
 * - Both paths produce and accept the unchanged envelope format.
 */
import { dataAad, dekAad, type DekBinding } from '../../core/aad.js';
import { DEK_BYTES, openData } from '../../core/aead.js';
import { bindingId, DekCache, sealUnderSealedDek } from '../../core/dek-cache.js';
import { KeywardError } from '../../core/errors.js';
import { SEALED_DEK_BYTES, type Envelope } from '../../core/envelope.js';
import type { Hsm, WrappedKeyRef } from '../../core/ports/hsm.js';
import type { Environment, KeyName } from '../../core/types.js';

export interface DekCachePolicy {
  readonly cache: DekCache;
  appliesTo(env: Environment, name: KeyName): boolean;
}

export function makeDekCachePolicy(cache: DekCache, excludeKeys: readonly string[]): DekCachePolicy {
  const excluded = new Set(excludeKeys);
  return { cache, appliesTo: (env, name) => !excluded.has(name) && !excluded.has(`${env}/${name}`) };
}

export async function sealWithDekCache(
  hsm: Pick<Hsm, 'seal' | 'randomBytes'>,
  cache: DekCache,
  key: WrappedKeyRef,
  binding: DekBinding,
  plaintext: Uint8Array,
  associatedData: Uint8Array | undefined,
): Promise<string> {
  const id = bindingId(key.cacheId, binding);
  const cached = cache.trySeal(id, binding, plaintext, associatedData);
  if (cached !== null) return cached;
  const dek = await hsm.randomBytes(DEK_BYTES);
  try {
    const sealedDek = await hsm.seal(key, dek, dekAad(binding));
    if (sealedDek.length !== SEALED_DEK_BYTES) throw new KeywardError('ERR_INTERNAL', 'HSM returned a sealed DEK of unexpected length');
    const ciphertext = sealUnderSealedDek(dek, sealedDek, binding.version, plaintext, associatedData);
    cache.rememberSeal(id, dek, sealedDek, plaintext.length);
    return ciphertext;
  } finally {
    dek.fill(0);
  }
}

export async function openWithDekCache(
  hsm: Pick<Hsm, 'open'>,
  cache: DekCache,
  key: WrappedKeyRef,
  binding: DekBinding,
  envelope: Envelope,
  associatedData: Uint8Array | undefined,
): Promise<Buffer> {
  const id = bindingId(key.cacheId, binding);
  const sealed = { iv: envelope.dataIv, ciphertext: envelope.dataCiphertext, tag: envelope.dataTag };
  const aad = dataAad(envelope.formatVersion, envelope.sealedDek, associatedData);
  const cached = cache.tryOpen(id, envelope.sealedDek);
  if (cached !== null) return openData(cached, sealed, aad); // synchronous: see dek-cache.ts
  const dek = await hsm.open(key, envelope.sealedDek, dekAad(binding));
  try {
    const plaintext = openData(dek, sealed, aad);
    cache.rememberOpen(id, envelope.sealedDek, dek);
    return plaintext;
  } finally {
    dek.fill(0);
  }
}
