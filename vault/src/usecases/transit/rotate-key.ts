/**
 * rotateKey: add a new key version, generated in the HSM under the environment's active root, and make
 * it the latest (Tink's "add, then promote": the store assigns latest+1 atomically, so the new version
 * is promoted by the same write that adds it).
 */
import { KeywardError } from '../../core/errors.js';
import { assertKeyAllows } from '../../core/keyring.js';
import type { Clock } from '../../core/ports/clock.js';
import type { Hsm } from '../../core/ports/hsm.js';
import type { KeyStore, TransitKeyRecord } from '../../core/ports/key-store.js';
import type { Environment, KeyName } from '../../core/types.js';
import { getKeyForWrite } from './shared.js';

export type RotateKey = (input: { readonly env: Environment; readonly name: KeyName }) => Promise<TransitKeyRecord>;

export interface RotateKeyDeps {
  readonly hsm: Pick<Hsm, 'generateWrappedKey'>;
  readonly keys: Pick<KeyStore, 'getKey' | 'getActiveRoot' | 'appendKeyVersion'>;
  readonly clock: Clock;
}

export function makeRotateKey(deps: RotateKeyDeps): RotateKey {
  return async ({ env, name }) => {
    const key = await getKeyForWrite(deps.keys, env, name);
    assertKeyAllows(key, 'rotate');
    const root = await deps.keys.getActiveRoot(env);
    if (!root) throw new KeywardError('ERR_SEALED', 'environment has no active root key');
    const wrappedKek = Buffer.from(await deps.hsm.generateWrappedKey({ env, term: root.term }));
    await deps.keys.appendKeyVersion(env, name, wrappedKek, root.term, deps.clock.now());
    const rotated = await deps.keys.getKey(env, name);
    if (!rotated) throw new KeywardError('ERR_INTERNAL', 'key vanished during rotation');
    return rotated;
  };
}
