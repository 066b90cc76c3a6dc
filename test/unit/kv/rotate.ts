/** Rotates the reserved _kv key through the transit rotate use case (reserved names never pass parseKeyName). */
import { makeRotateKey } from '../../../vault/src/usecases/transit/index.js';
import { KV_KEY_NAME } from '../../../vault/src/usecases/kv/index.js';
import { env, type KvHarness } from './kv-harness.js';

export async function rotateKey(h: KvHarness): Promise<void> {
  await makeRotateKey({ hsm: h.hsm, keys: h.keys, clock: h.clock })({ env, name: KV_KEY_NAME });
}
