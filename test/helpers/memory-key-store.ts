/**
 * MemoryKeyStore: a KeyStore held in plain Maps, for unit tests only (no durability).
 *
 * Same observable semantics as SqliteKeyStore (both run test/contract/key-store.contract.ts):
 * versions are latest+1 with no gaps, trim follows Vault's rules, 'destroyed' erases blobs for good,
 * root terms still wrapping blobs cannot be destroyed, replaceWrappedKek is a compare-and-set.
 * Every method body runs without an `await` before its last write, so on the single JS thread each
 * call is atomic. Buffers and records are copied on the way in and on the way out.
 */
import { KeywardError, conflict, invalidInput, notFound } from '../../vault/src/core/errors.js';
import type {
  KeyConfig,
  KeyState,
  KeyStore,
  KeyType,
  NewTransitKey,
  RootKeyRecord,
  RootKeyState,
  RootRotationRecord,
  TransitKeyRecord,
  VersionState,
} from '../../vault/src/core/ports/key-store.js';
import type { Environment, KeyName, KeyVersion } from '../../vault/src/core/types.js';

interface StoredVersion {
  version: number;
  wrappedKek: Buffer | null;
  rootTerm: number;
  createdAt: number;
  state: VersionState;
}

interface StoredKey {
  env: Environment;
  name: KeyName;
  type: KeyType;
  derived: boolean;
  state: KeyState;
  config: KeyConfig;
  latestVersion: number;
  minAvailableVersion: number;
  createdAt: number;
  updatedAt: number;
  deletionDeadline: number | null;
  lastRotatedAt: number;
  versions: Map<number, StoredVersion>;
}

interface StoredRoot {
  env: Environment;
  term: number;
  state: RootKeyState;
  installedAt: number;
  retiredAt: number | null;
}

const BOOLEAN_FIELDS: ReadonlySet<keyof KeyConfig> = new Set(['deletionAllowed', 'exportable', 'allowPlaintextBackup']);
const CONFIG_FIELDS: ReadonlyArray<keyof KeyConfig> = [
  'minDecryptionVersion',
  'minEncryptionVersion',
  'deletionAllowed',
  'exportable',
  'allowPlaintextBackup',
  'autoRotatePeriodSeconds',
  'maxVersions',
  'versionTtlSeconds',
];

function validConfigPatch(patch: Partial<KeyConfig>): Partial<KeyConfig> {
  const out: Record<string, number | boolean> = {};
  for (const field of CONFIG_FIELDS) {
    const value = patch[field];
    if (value === undefined) continue;
    if (BOOLEAN_FIELDS.has(field) ? typeof value !== 'boolean' : typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      throw invalidInput(`invalid ${field}`);
    }
    out[field] = value;
  }
  return out as Partial<KeyConfig>;
}

const ms = (d: Date): number => {
  const t = d.getTime();
  if (!Number.isFinite(t)) throw invalidInput('invalid timestamp');
  return t;
};

function checkTerm(term: number): void {
  if (!Number.isSafeInteger(term) || term < 0) throw invalidInput('invalid root term');
}

export class MemoryKeyStore implements KeyStore {
  private readonly keys = new Map<string, StoredKey>();
  private readonly roots = new Map<string, StoredRoot>();
  private readonly rotations = new Map<string, RootRotationRecord>();
  private readonly leases = new Map<string, { holder: string; expiresAt: number }>();
  private closed = false;

  private run<T>(context: string, fn: () => T): Promise<T> {
    return new Promise<T>((resolve) => {
      if (this.closed) throw new KeywardError('ERR_INTERNAL', `${context}: key store closed`);
      resolve(fn());
    });
  }

  private key(env: Environment, name: KeyName): StoredKey | undefined {
    return this.keys.get(`${env}\u0000${name}`);
  }

  private mustKey(env: Environment, name: KeyName): StoredKey {
    const k = this.key(env, name);
    if (!k) throw notFound('key not found');
    return k;
  }

  private copyOut(k: StoredKey): TransitKeyRecord {
    return {
      env: k.env,
      name: k.name,
      type: k.type,
      derived: k.derived,
      state: k.state,
      config: { ...k.config },
      latestVersion: k.latestVersion,
      minAvailableVersion: k.minAvailableVersion,
      createdAt: new Date(k.createdAt),
      updatedAt: new Date(k.updatedAt),
      versions: [...k.versions.values()]
        .filter((v) => v.version >= k.minAvailableVersion)
        .sort((a, b) => a.version - b.version)
        .map((v) => ({
          version: v.version as KeyVersion,
          wrappedKek: v.wrappedKek === null ? null : Buffer.from(v.wrappedKek),
          rootTerm: v.rootTerm,
          createdAt: new Date(v.createdAt),
          state: v.state,
        })),
      deletionDeadline: k.deletionDeadline === null ? null : new Date(k.deletionDeadline),
      lastRotatedAt: new Date(k.lastRotatedAt),
    };
  }

  getKey(env: Environment, name: KeyName): Promise<TransitKeyRecord | null> {
    return this.run('getKey', () => {
      const k = this.key(env, name);
      return k ? this.copyOut(k) : null;
    });
  }

  listKeys(env: Environment): Promise<KeyName[]> {
    return this.run('listKeys', () =>
      [...this.keys.values()]
        .filter((k) => k.env === env)
        .map((k) => k.name)
        .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
    );
  }

  createKey(key: NewTransitKey): Promise<boolean> {
    return this.run('createKey', () => {
      checkTerm(key.firstVersion.rootTerm);
      validConfigPatch(key.config);
      if (this.key(key.env, key.name)) return false;
      const at = ms(key.createdAt);
      const versions = new Map<number, StoredVersion>();
      versions.set(1, { version: 1, wrappedKek: Buffer.from(key.firstVersion.wrappedKek), rootTerm: key.firstVersion.rootTerm, createdAt: at, state: 'active' });
      this.keys.set(`${key.env}\u0000${key.name}`, {
        env: key.env,
        name: key.name,
        type: key.type,
        derived: key.derived,
        state: 'active',
        config: { ...key.config },
        latestVersion: 1,
        minAvailableVersion: 1,
        createdAt: at,
        updatedAt: at,
        deletionDeadline: null,
        lastRotatedAt: at,
        versions,
      });
      return true;
    });
  }

  appendKeyVersion(env: Environment, name: KeyName, wrappedKek: Buffer, rootTerm: number, createdAt: Date): Promise<KeyVersion> {
    return this.run('appendKeyVersion', () => {
      checkTerm(rootTerm);
      const at = ms(createdAt);
      const k = this.mustKey(env, name);
      if (k.state === 'destroyed') throw conflict('key is destroyed');
      const version = k.latestVersion + 1;
      k.versions.set(version, { version, wrappedKek: Buffer.from(wrappedKek), rootTerm, createdAt: at, state: 'active' });
      k.latestVersion = version;
      k.lastRotatedAt = at;
      k.updatedAt = at;
      return version as KeyVersion;
    });
  }

  updateKeyConfig(env: Environment, name: KeyName, patch: Partial<KeyConfig>, updatedAt: Date): Promise<TransitKeyRecord> {
    return this.run('updateKeyConfig', () => {
      const valid = validConfigPatch(patch);
      const at = ms(updatedAt);
      const k = this.mustKey(env, name);
      k.config = { ...k.config, ...valid };
      k.updatedAt = at;
      return this.copyOut(k);
    });
  }

  setKeyState(env: Environment, name: KeyName, state: KeyState, deletionDeadline: Date | null, updatedAt: Date): Promise<void> {
    return this.run('setKeyState', () => {
      const at = ms(updatedAt);
      const deadline = deletionDeadline === null ? null : ms(deletionDeadline);
      const k = this.mustKey(env, name);
      if (k.state === 'destroyed' && state !== 'destroyed') throw conflict('key is destroyed');
      k.state = state;
      k.deletionDeadline = deadline;
      k.updatedAt = at;
      if (state === 'destroyed') {
        for (const v of k.versions.values()) {
          v.wrappedKek = null;
          v.state = 'destroyed';
        }
      }
    });
  }

  setVersionState(env: Environment, name: KeyName, version: KeyVersion, state: VersionState, updatedAt: Date): Promise<void> {
    return this.run('setVersionState', () => {
      const at = ms(updatedAt);
      const k = this.mustKey(env, name);
      const v = k.versions.get(version);
      if (!v) throw notFound('key version not found');
      if (v.state === 'destroyed' && state !== 'destroyed') throw conflict('key version is destroyed');
      v.state = state;
      if (state === 'destroyed') v.wrappedKek = null;
      k.updatedAt = at;
    });
  }

  trimVersions(env: Environment, name: KeyName, minAvailableVersion: number, updatedAt: Date): Promise<void> {
    return this.run('trimVersions', () => {
      const min = minAvailableVersion;
      if (!Number.isSafeInteger(min) || min < 1) throw invalidInput('invalid minimum available version');
      const at = ms(updatedAt);
      const k = this.mustKey(env, name);
      if (min < k.minAvailableVersion) throw conflict('minimum available version cannot be decreased');
      if (min > k.latestVersion) throw conflict('minimum available version cannot exceed the latest version');
      if (min > k.config.minDecryptionVersion) throw conflict('minimum available version cannot exceed the minimum decryption version');
      if (k.config.minEncryptionVersion !== 0 && min > k.config.minEncryptionVersion) {
        throw conflict('minimum available version cannot exceed the minimum encryption version');
      }
      for (const v of [...k.versions.keys()]) if (v < min) k.versions.delete(v);
      k.minAvailableVersion = min;
      k.updatedAt = at;
    });
  }

  deleteKey(env: Environment, name: KeyName): Promise<boolean> {
    return this.run('deleteKey', () => this.keys.delete(`${env}\u0000${name}`));
  }

  private copyRoot(r: StoredRoot): RootKeyRecord {
    return { env: r.env, term: r.term, state: r.state, installedAt: new Date(r.installedAt), retiredAt: r.retiredAt === null ? null : new Date(r.retiredAt) };
  }

  private rootsOf(env: Environment): StoredRoot[] {
    return [...this.roots.values()].filter((r) => r.env === env).sort((a, b) => a.term - b.term);
  }

  getActiveRoot(env: Environment): Promise<RootKeyRecord | null> {
    return this.run('getActiveRoot', () => {
      const active = this.rootsOf(env).filter((r) => r.state === 'active');
      const newest = active[active.length - 1];
      return newest ? this.copyRoot(newest) : null;
    });
  }

  listRoots(env: Environment): Promise<RootKeyRecord[]> {
    return this.run('listRoots', () => this.rootsOf(env).map((r) => this.copyRoot(r)));
  }

  putRoot(env: Environment, term: number, state: RootKeyState, installedAt: Date): Promise<void> {
    return this.run('putRoot', () => {
      checkTerm(term);
      const at = ms(installedAt);
      const id = `${env}\u0000${term}`;
      if (this.roots.has(id)) return;
      this.roots.set(id, { env, term, state, installedAt: at, retiredAt: state === 'retired' || state === 'destroyed' ? at : null });
    });
  }

  setRootState(env: Environment, term: number, state: RootKeyState, at: Date): Promise<void> {
    return this.run('setRootState', () => {
      const when = ms(at);
      const r = this.roots.get(`${env}\u0000${term}`);
      if (!r) throw notFound('root term not found');
      if (r.state === 'destroyed' && state !== 'destroyed') throw conflict('root term is destroyed');
      if (state === 'destroyed' && this.wrappedUnder(env, term).length > 0) throw conflict('root term still wraps key versions');
      const ended = state === 'retired' || state === 'destroyed';
      r.retiredAt = ended ? (r.retiredAt ?? when) : null;
      r.state = state;
    });
  }

  private wrappedUnder(env: Environment, term: number): Array<{ name: KeyName; version: KeyVersion; wrappedKek: Buffer }> {
    const out: Array<{ name: KeyName; version: KeyVersion; wrappedKek: Buffer }> = [];
    for (const k of this.keys.values()) {
      if (k.env !== env) continue;
      for (const v of k.versions.values()) {
        if (v.rootTerm === term && v.wrappedKek !== null) out.push({ name: k.name, version: v.version as KeyVersion, wrappedKek: Buffer.from(v.wrappedKek) });
      }
    }
    // Same order as the SQLite adapter (name, then version; binary collation).
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.version - b.version));
  }

  listVersionsWrappedUnder(env: Environment, term: number, limit: number): Promise<Array<{ name: KeyName; version: KeyVersion; wrappedKek: Buffer }>> {
    return this.run('listVersionsWrappedUnder', () => {
      if (!Number.isSafeInteger(limit) || limit < 1) throw invalidInput('invalid limit');
      return this.wrappedUnder(env, term).slice(0, limit);
    });
  }

  async replaceWrappedKeks(env: Environment, fromTerm: number, toTerm: number, items: ReadonlyArray<{ name: KeyName; version: KeyVersion; wrappedKek: Buffer }>): Promise<boolean[]> {
    const out: boolean[] = [];
    for (const i of items) out.push(await this.replaceWrappedKek(env, i.name, i.version, fromTerm, toTerm, i.wrappedKek));
    return out;
  }

  replaceWrappedKek(env: Environment, name: KeyName, version: KeyVersion, fromTerm: number, toTerm: number, wrappedKek: Buffer): Promise<boolean> {
    return this.run('replaceWrappedKek', () => {
      checkTerm(toTerm);
      const v = this.key(env, name)?.versions.get(version);
      if (!v || v.rootTerm !== fromTerm || v.wrappedKek === null) return false;
      v.wrappedKek = Buffer.from(wrappedKek);
      v.rootTerm = toTerm;
      return true;
    });
  }

  appendKeyVersionIfDue(env: Environment, name: KeyName, wrappedKek: Buffer, rootTerm: number, now: Date, dueBefore: Date): Promise<KeyVersion | null> {
    return this.run('appendKeyVersionIfDue', () => {
      checkTerm(rootTerm);
      const at = ms(now);
      const due = ms(dueBefore);
      const k = this.mustKey(env, name);
      if (k.state !== 'active' || k.lastRotatedAt > due) return null;
      const version = k.latestVersion + 1;
      k.versions.set(version, { version, wrappedKek: Buffer.from(wrappedKek), rootTerm, createdAt: at, state: 'active' });
      k.latestVersion = version;
      k.lastRotatedAt = at;
      k.updatedAt = at;
      return version as KeyVersion;
    });
  }

  transitionKeyState(env: Environment, name: KeyName, from: readonly KeyState[], to: KeyState, deletionDeadline: Date | null, at: Date): Promise<boolean> {
    return this.run('transitionKeyState', () => {
      const when = ms(at);
      const deadline = deletionDeadline === null ? null : ms(deletionDeadline);
      const k = this.mustKey(env, name);
      if (!from.includes(k.state)) return false;
      if (k.state === 'destroyed' && to !== 'destroyed') return false;
      k.state = to;
      k.deletionDeadline = deadline;
      k.updatedAt = when;
      if (to === 'destroyed') {
        for (const v of k.versions.values()) {
          v.wrappedKek = null;
          v.state = 'destroyed';
        }
      }
      return true;
    });
  }

  countVersionsWrappedUnder(env: Environment, term: number): Promise<number> {
    return this.run('countVersionsWrappedUnder', () => this.wrappedUnder(env, term).length);
  }

  putRootRotation(r: RootRotationRecord): Promise<void> {
    return this.run('putRootRotation', () => {
      checkTerm(r.fromTerm);
      checkTerm(r.toTerm);
      this.rotations.set(`${r.env}\u0000${r.fromTerm}`, { ...r, startedAt: new Date(ms(r.startedAt)), finishedAt: r.finishedAt === null ? null : new Date(ms(r.finishedAt)) });
    });
  }

  getRootRotation(env: Environment): Promise<RootRotationRecord | null> {
    return this.run('getRootRotation', () => {
      const mine = [...this.rotations.values()].filter((r) => r.env === env);
      mine.sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime() || b.fromTerm - a.fromTerm);
      const r = mine[0];
      return r ? { ...r, startedAt: new Date(r.startedAt), finishedAt: r.finishedAt === null ? null : new Date(r.finishedAt) } : null;
    });
  }

  acquireLease(name: string, holder: string, now: Date, ttlMs: number): Promise<boolean> {
    return this.run('acquireLease', () => {
      if (!Number.isSafeInteger(ttlMs) || ttlMs < 1) throw invalidInput('invalid lease ttl');
      const t = ms(now);
      const cur = this.leases.get(name);
      if (cur && cur.holder !== holder && cur.expiresAt > t) return false;
      this.leases.set(name, { holder, expiresAt: t + ttlMs });
      return true;
    });
  }

  releaseLease(name: string, holder: string): Promise<void> {
    return this.run('releaseLease', () => {
      if (this.leases.get(name)?.holder === holder) this.leases.delete(name);
    });
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}
