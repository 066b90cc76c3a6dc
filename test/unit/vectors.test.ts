/**
 * Frozen transit vectors: every ciphertext in test/vectors/transit-v1.json must decrypt, through the real
 * decrypt use case, forever. NEVER regenerate or edit transit-v1.json to make this test pass — a failure
 * here means the envelope format, AAD layout or key handling changed incompatibly and existing customer
 * ciphertexts would no longer open. A new format gets a new vector file beside this one.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { KeywardError } from '../../vault/src/core/errors.js';
import { parseEnvironment, parseKeyName } from '../../vault/src/core/types.js';
import { makeDecrypt } from '../../vault/src/usecases/transit/decrypt.js';
import { FixtureHsm } from '../vectors/fixture-hsm.js';
import { vectorKeyStore, type VectorKey } from '../vectors/fixture-keys.js';

interface Vector {
  id: string;
  env: string;
  key: string;
  plaintext: string;
  ciphertext: string;
  key_version: number;
  context?: string;
  associated_data?: string;
}
interface Negative {
  id: string;
  env: string;
  key: string;
  ciphertext: string;
  context?: string;
  associated_data?: string;
  error: string;
}
const file = JSON.parse(readFileSync(new URL('../vectors/transit-v1.json', import.meta.url), 'utf8')) as {
  format: string;
  keys: VectorKey[];
  vectors: Vector[];
  negative: Negative[];
};

const decrypt = makeDecrypt({ hsm: new FixtureHsm(), keys: vectorKeyStore(file.keys) });

async function open(v: { env: string; key: string; ciphertext: string; context?: string; associated_data?: string }) {
  const r = await decrypt({
    env: parseEnvironment(v.env),
    name: parseKeyName(v.key),
    items: [{ ciphertext: v.ciphertext, context: v.context, associatedData: v.associated_data }],
  });
  const item = r.items[0];
  if (!item) throw new Error('no result');
  return item;
}

describe('frozen transit vectors (transit-v1.json)', () => {
  it('is the v1 envelope format and has vectors', () => {
    expect(file.format).toBe('keyward-transit-envelope-v1');
    expect(file.vectors.length).toBeGreaterThanOrEqual(10);
    expect(file.negative.length).toBeGreaterThanOrEqual(6);
  });

  it.each(file.vectors.map((v) => [v.id, v] as const))('decrypts %s', async (_id, v) => {
    expect(v.ciphertext.startsWith(`vault:v${v.key_version}:`)).toBe(true);
    const item = await open(v);
    if (!item.ok) throw item.error;
    expect(item.plaintext.toString('base64')).toBe(v.plaintext);
    expect(item.keyVersion).toBe(v.key_version);
  });

  it.each(file.negative.map((n) => [n.id, n] as const))('refuses %s with decryption failed', async (_id, n) => {
    const item = await open(n);
    expect(item.ok).toBe(false);
    if (item.ok) return;
    expect(item.error).toBeInstanceOf(KeywardError);
    expect(item.error.code).toBe(n.error);
    expect(item.error.message).toBe('decryption failed');
  });
});
