/**
 * usedVersions: which versions of a key the data Keyward itself stores still references — the
 * lifecycle retention (`max_versions`) and the key-compromise playbook ask it before trimming or
 * raising `min_decryption_version`. Customer transit keys have no stored data: the answer is empty
 * (their ciphertexts live with clients; Keyward cannot see them).
 */
import type { Environment, KeyName } from '../../core/types.js';
import type { StoredDataSource } from './stored-data.js';

export type UsedVersions = (env: Environment, keyName: KeyName) => Promise<Set<number>>;

export function makeUsedVersions(sources: readonly StoredDataSource[]): UsedVersions {
  return async (env, keyName) => {
    const source = sources.find((s) => s.keyName === keyName);
    return source ? source.used(env) : new Set<number>();
  };
}
