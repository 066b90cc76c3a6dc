/** Wires the KV and wrapping use cases over MemoryHsm + MemoryKeyStore + SQLite ':memory:' with a settable clock. */
import { MemoryHsm } from '../../../hsm-sim/memory-hsm.js';
import { openDatabase, type SqliteConnection } from '../../../vault/src/adapters/sqlite/database.js';
import { SqliteSecretStore } from '../../../vault/src/adapters/sqlite/sqlite-secret-store.js';
import type { Clock } from '../../../vault/src/core/ports/clock.js';
import { parseEnvironment, parseSecretPath, type SecretPath } from '../../../vault/src/core/types.js';
import { makeEnsureEnvironmentRoot } from '../../../vault/src/usecases/ensure-environment-root.js';
import { makeKvUseCases } from '../../../vault/src/usecases/kv/index.js';
import { makeTransitUseCases } from '../../../vault/src/usecases/transit/index.js';
import { makeWrappingUseCases } from '../../../vault/src/usecases/wrapping/index.js';
import { MemoryKeyStore } from '../../helpers/memory-key-store.js';

export const env = parseEnvironment('dev');
export const p = (s: string): SecretPath => parseSecretPath(s);

export async function kvHarness() {
  const hsm = new MemoryHsm();
  const keys = new MemoryKeyStore();
  let now = new Date('2025-01-01T00:00:00Z');
  const clock: Clock = { now: () => now };
  await makeEnsureEnvironmentRoot({ hsm, keys, clock })(env);
  const db: SqliteConnection = await openDatabase({ file: ':memory:' });
  const secrets = new SqliteSecretStore(db);
  return {
    hsm,
    keys,
    db,
    secrets,
    clock,
    advance: (seconds: number) => {
      now = new Date(now.getTime() + seconds * 1000);
    },
    kv: makeKvUseCases({ hsm, keys, secrets, clock }),
    wrapping: makeWrappingUseCases({ hsm, keys, store: secrets, clock }),
    transit: makeTransitUseCases({ hsm, keys, clock }),
  };
}

export type KvHarness = Awaited<ReturnType<typeof kvHarness>>;

export async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    throw e;
  }
}

export async function messageOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (e) {
    return (e as Error).message;
  }
}
