/**
 * TEST ONLY. The transit key records behind transit-v1.json, rebuilt from the vector file's own
 * `keys` section, and a read-only KeyStore stub serving them to the real use cases.
 */
import { DEFAULT_KEY_CONFIG, type KeyStore, type TransitKeyRecord } from '../../vault/src/core/ports/key-store.js';
import { parseEnvironment, parseKeyName, type Environment, type KeyName, type KeyVersion } from '../../vault/src/core/types.js';

export interface VectorKey {
  readonly env: string;
  readonly name: string;
  readonly derived: boolean;
  readonly versions: ReadonlyArray<{ readonly version: number; readonly rootTerm: number; readonly wrappedKekHex: string }>;
}

const EPOCH = new Date('2025-01-01T00:00:00Z');

export function recordOf(k: VectorKey): TransitKeyRecord {
  return {
    env: parseEnvironment(k.env),
    name: parseKeyName(k.name),
    type: 'aes256-gcm96',
    derived: k.derived,
    state: 'active',
    config: { ...DEFAULT_KEY_CONFIG },
    latestVersion: Math.max(...k.versions.map((v) => v.version)),
    minAvailableVersion: 1,
    createdAt: EPOCH,
    updatedAt: EPOCH,
    versions: k.versions.map((v) => ({
      version: v.version as KeyVersion,
      wrappedKek: Buffer.from(v.wrappedKekHex, 'hex'),
      rootTerm: v.rootTerm,
      createdAt: EPOCH,
      state: 'active' as const,
    })),
    deletionDeadline: null,
    lastRotatedAt: EPOCH,
  };
}

export function vectorKeyStore(keys: readonly VectorKey[]): Pick<KeyStore, 'getKey'> {
  const records = keys.map(recordOf);
  return {
    async getKey(env: Environment, name: KeyName) {
      return records.find((r) => r.env === env && r.name === name) ?? null;
    },
  };
}
