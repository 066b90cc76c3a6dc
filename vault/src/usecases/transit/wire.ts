/** Composition helper: every transit use case over one Hsm, KeyStore and Clock (for main.ts and tests). */
import type { Clock } from '../../core/ports/clock.js';
import type { Hsm } from '../../core/ports/hsm.js';
import type { KeyStore } from '../../core/ports/key-store.js';
import { makeCreateKey, type CreateKey } from './create-key.js';
import { makeDecrypt, type Decrypt } from './decrypt.js';
import { makeDeleteKey, type DeleteKey } from './delete-key.js';
import { makeEncrypt, type Encrypt } from './encrypt.js';
import { makeGenerateDataKey, type GenerateDataKey } from './generate-data-key.js';
import { makeListKeys, type ListKeys } from './list-keys.js';
import { makeReadKey, type ReadKey } from './read-key.js';
import { makeRewrap, type Rewrap } from './rewrap.js';
import { makeRotateKey, type RotateKey } from './rotate-key.js';
import { makeTrimKey, type TrimKey } from './trim-key.js';
import { makeUpdateKeyConfig, type UpdateKeyConfig } from './update-key-config.js';
import type { DekCachePolicy } from './dek-cache-policy.js';
import { makeKeyRecordCache, type KeyRecordCache } from './key-cache.js';

/** Performance levers for the data path (config `performance`); both default to off here. */
export interface TransitPerformanceOptions {
  /** Key record cache TTL for encrypt/decrypt/datakey (0 = off). */
  readonly keyRecordCacheTtlMs?: number;
  readonly dekCache?: DekCachePolicy;
}

export interface TransitUseCases {
  readonly createKey: CreateKey;
  readonly readKey: ReadKey;
  readonly listKeys: ListKeys;
  readonly updateKeyConfig: UpdateKeyConfig;
  readonly rotateKey: RotateKey;
  readonly trimKey: TrimKey;
  readonly deleteKey: DeleteKey;
  readonly encrypt: Encrypt;
  readonly decrypt: Decrypt;
  readonly rewrap: Rewrap;
  readonly generateDataKey: GenerateDataKey;
}

export function makeTransitUseCases(
  deps: {
    readonly hsm: Hsm;
    readonly keys: KeyStore;
    readonly clock: Clock;
    /**
     * The composition root's record cache, when other modules (lifecycle, KV, rewrap) write keys
     * too: they must write through `recordCache.store` so their writes invalidate what the data
     * path reads. Without it, one is made here around `keys`.
     */
    readonly recordCache?: KeyRecordCache;
  },
  performance: TransitPerformanceOptions = {},
): TransitUseCases {
  const { hsm, clock } = deps;
  // Every use case writes through `keys`, whose writes empty the record cache the data path reads.
  const recordCache = deps.recordCache ?? makeKeyRecordCache(deps.keys, { ttlMs: performance.keyRecordCacheTtlMs ?? 0 });
  const keys = recordCache.store;
  const dataKeys = recordCache.reader;
  const dekCache = performance.dekCache;
  const createKey = makeCreateKey({ hsm, keys, clock });
  return {
    createKey,
    readKey: makeReadKey({ keys }),
    listKeys: makeListKeys({ keys }),
    updateKeyConfig: makeUpdateKeyConfig({ keys, clock }),
    rotateKey: makeRotateKey({ hsm, keys, clock }),
    trimKey: makeTrimKey({ hsm, keys, clock }),
    deleteKey: makeDeleteKey({ hsm, keys }),
    encrypt: makeEncrypt({ hsm, keys: dataKeys, createKey, ...(dekCache ? { dekCache } : {}) }),
    decrypt: makeDecrypt({ hsm, keys: dataKeys, ...(dekCache ? { dekCache } : {}) }),
    rewrap: makeRewrap({ hsm, keys }),
    generateDataKey: makeGenerateDataKey({ hsm, keys: dataKeys }),
  };
}
