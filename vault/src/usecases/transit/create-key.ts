/**
 * createKey: create a named transit key with version 1 generated in the HSM under the environment's
 * active root KEK. Vault semantics: creating an existing key is not an error — the existing key is
 * returned with `created: false` (the route turns that into a warning).
 *
 * Invariants:
 * - Only aes256-gcm96; exportable keys, plaintext backup and convergent encryption are not offered.
 * - The HSM is asked for a new version only when the name looks free; a lost creation race returns the
 *   winner's key and discards the loser's blob (it was never stored, so it unwraps nothing).
 */
import { KeywardError, invalidInput } from '../../core/errors.js';
import { validateAutoRotatePeriod } from '../../core/keyring.js';
import type { Clock } from '../../core/ports/clock.js';
import type { Hsm } from '../../core/ports/hsm.js';
import { DEFAULT_KEY_CONFIG, type KeyStore, type TransitKeyRecord } from '../../core/ports/key-store.js';
import type { Environment, KeyName } from '../../core/types.js';

export const SUPPORTED_KEY_TYPE = 'aes256-gcm96';

export interface CreateKeyInput {
  readonly env: Environment;
  readonly name: KeyName;
  readonly type?: string;
  readonly derived?: boolean;
  readonly convergentEncryption?: boolean;
  readonly exportable?: boolean;
  readonly allowPlaintextBackup?: boolean;
  readonly autoRotatePeriodSeconds?: number;
}

export interface CreateKeyResult {
  readonly key: TransitKeyRecord;
  readonly created: boolean;
}

export interface CreateKeyDeps {
  readonly hsm: Pick<Hsm, 'generateWrappedKey'>;
  readonly keys: Pick<KeyStore, 'getKey' | 'createKey' | 'getActiveRoot'>;
  readonly clock: Clock;
}

export type CreateKey = (input: CreateKeyInput) => Promise<CreateKeyResult>;

export function makeCreateKey(deps: CreateKeyDeps): CreateKey {
  return async (input) => {
    const type = input.type ?? SUPPORTED_KEY_TYPE;
    if (type !== SUPPORTED_KEY_TYPE) throw invalidInput(`unsupported key type ${JSON.stringify(type.slice(0, 40))}: only ${SUPPORTED_KEY_TYPE} is offered`);
    if (input.exportable === true) throw new KeywardError('ERR_UNSUPPORTED', 'exportable keys are not offered: key material never leaves the HSM');
    if (input.allowPlaintextBackup === true) throw new KeywardError('ERR_UNSUPPORTED', 'plaintext backup is not offered: key material never leaves the HSM');
    if (input.convergentEncryption === true) throw new KeywardError('ERR_UNSUPPORTED', 'convergent encryption is not offered');
    const autoRotatePeriodSeconds = validateAutoRotatePeriod(input.autoRotatePeriodSeconds ?? 0);

    const existing = await deps.keys.getKey(input.env, input.name);
    if (existing) return { key: existing, created: false };

    const root = await deps.keys.getActiveRoot(input.env);
    if (!root) throw new KeywardError('ERR_SEALED', 'environment has no active root key');
    const wrappedKek = Buffer.from(await deps.hsm.generateWrappedKey({ env: input.env, term: root.term }));
    const now = deps.clock.now();
    const created = await deps.keys.createKey({
      env: input.env,
      name: input.name,
      type: SUPPORTED_KEY_TYPE,
      derived: input.derived === true,
      config: { ...DEFAULT_KEY_CONFIG, autoRotatePeriodSeconds },
      firstVersion: { wrappedKek, rootTerm: root.term },
      createdAt: now,
    });
    const key = await deps.keys.getKey(input.env, input.name);
    if (!key) throw new KeywardError('ERR_INTERNAL', 'key vanished right after creation');
    return { key, created };
  };
}
