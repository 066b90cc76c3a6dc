/** Wires the transit use cases over MemoryHsm + MemoryKeyStore with a settable clock, for unit tests. */
import { MemoryHsm } from '../../../hsm-sim/memory-hsm.js';
import type { Clock } from '../../../vault/src/core/ports/clock.js';
import { parseEnvironment, parseKeyName, type KeyName } from '../../../vault/src/core/types.js';
import { makeEnsureEnvironmentRoot } from '../../../vault/src/usecases/ensure-environment-root.js';
import * as t from '../../../vault/src/usecases/transit/index.js';
import { MemoryKeyStore } from '../../helpers/memory-key-store.js';

export const env = parseEnvironment('dev');
export const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64');

export async function transitHarness() {
  const hsm = new MemoryHsm();
  const keys = new MemoryKeyStore();
  let now = new Date('2025-01-01T00:00:00Z');
  const clock: Clock = { now: () => now };
  const ensureRoot = makeEnsureEnvironmentRoot({ hsm, keys, clock });
  await ensureRoot(env);
  const createKey = t.makeCreateKey({ hsm, keys, clock });
  return {
    hsm,
    keys,
    clock,
    advance: (seconds: number) => {
      now = new Date(now.getTime() + seconds * 1000);
    },
    ensureRoot,
    createKey,
    readKey: t.makeReadKey({ keys }),
    listKeys: t.makeListKeys({ keys }),
    updateKeyConfig: t.makeUpdateKeyConfig({ keys, clock }),
    rotateKey: t.makeRotateKey({ hsm, keys, clock }),
    trimKey: t.makeTrimKey({ hsm, keys, clock }),
    deleteKey: t.makeDeleteKey({ hsm, keys }),
    encrypt: t.makeEncrypt({ hsm, keys, createKey }),
    decrypt: t.makeDecrypt({ hsm, keys }),
    rewrap: t.makeRewrap({ hsm, keys }),
    dataKey: t.makeGenerateDataKey({ hsm, keys }),
  };
}

export type Harness = Awaited<ReturnType<typeof transitHarness>>;
export const keyName = (s: string): KeyName => parseKeyName(s);

/** Encrypt one plaintext and return its ciphertext, failing the test on an item error. */
export async function enc(h: Harness, name: string, plaintext: string, extra: Partial<t.EncryptItemInput> = {}): Promise<string> {
  const r = await h.encrypt({ env, name: keyName(name), items: [{ plaintext: b64(plaintext), ...extra }], mayCreate: true });
  const item = r.items[0];
  if (!item?.ok) throw item?.error ?? new Error('no item');
  return item.ciphertext;
}

export async function dec(h: Harness, name: string, ciphertext: string, extra: Partial<t.DecryptItemInput> = {}): Promise<string> {
  const r = await h.decrypt({ env, name: keyName(name), items: [{ ciphertext, ...extra }] });
  const item = r.items[0];
  if (!item?.ok) throw item?.error ?? new Error('no item');
  return item.plaintext.toString('utf8');
}

export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    throw e;
  }
}
