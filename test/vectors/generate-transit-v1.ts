/**
 * TEST ONLY. Produced test/vectors/transit-v1.json ONCE. The committed file is frozen: the vector test
 * proves that ciphertexts written by this format version decrypt forever. Never regenerate or edit it;
 * a new format gets a new file (transit-v2.json). This script refuses to overwrite an existing file.
 *
 *   npx tsx test/vectors/generate-transit-v1.ts
 */
import { existsSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseEnvironment, parseKeyName } from '../../vault/src/core/types.js';
import { makeEncrypt } from '../../vault/src/usecases/transit/encrypt.js';
import { makeGenerateDataKey } from '../../vault/src/usecases/transit/generate-data-key.js';
import { FixtureHsm, fixtureWrap } from './fixture-hsm.js';
import { vectorKeyStore, type VectorKey } from './fixture-keys.js';

const out = fileURLToPath(new URL('./transit-v1.json', import.meta.url));
if (existsSync(out)) throw new Error(`${out} exists and is frozen; never regenerate it`);

const keys: VectorKey[] = [
  { env: 'dev', name: 'vectors-aes', derived: false, versions: [1, 2].map((v) => ({ version: v, rootTerm: 1, wrappedKekHex: fixtureWrap(1, v).toString('hex') })) },
  { env: 'dev', name: 'vectors-derived', derived: true, versions: [{ version: 1, rootTerm: 1, wrappedKekHex: fixtureWrap(1, 1).toString('hex') }] },
  // Same key-version material after a root rotation (re-wrapped under term 2): ciphertexts must not care.
  { env: 'prod', name: 'vectors-aes', derived: false, versions: [1, 2, 3].map((v) => ({ version: v, rootTerm: 2, wrappedKekHex: fixtureWrap(2, v).toString('hex') })) },
];

const hsm = new FixtureHsm();
const store = vectorKeyStore(keys);
const encrypt = makeEncrypt({ hsm, keys: store });
const datakey = makeGenerateDataKey({ hsm, keys: store });
const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64');

interface Case {
  id: string;
  env: string;
  key: string;
  plaintext: string;
  context?: string;
  associated_data?: string;
  key_version?: number;
}
const cases: Case[] = [
  { id: 'aes-v2-text', env: 'dev', key: 'vectors-aes', plaintext: b64('the quick brown fox jumps over the lazy dog') },
  { id: 'aes-v1-pinned', env: 'dev', key: 'vectors-aes', plaintext: b64('pinned to version 1'), key_version: 1 },
  { id: 'aes-empty', env: 'dev', key: 'vectors-aes', plaintext: '' },
  { id: 'aes-binary-1k', env: 'dev', key: 'vectors-aes', plaintext: b64(Buffer.from(Array.from({ length: 1024 }, (_, i) => (i * 7) & 0xff))) },
  { id: 'aes-associated-data', env: 'dev', key: 'vectors-aes', plaintext: b64('bound to an order'), associated_data: b64('order-42') },
  { id: 'derived-context', env: 'dev', key: 'vectors-derived', plaintext: b64('tenant secret'), context: b64('tenant-1') },
  { id: 'derived-context-ad', env: 'dev', key: 'vectors-derived', plaintext: b64('both bindings'), context: b64('tenant-2'), associated_data: b64('row-9') },
  { id: 'prod-root-term-2-v3', env: 'prod', key: 'vectors-aes', plaintext: b64('wrapped under root term 2') },
  { id: 'prod-root-term-2-v1', env: 'prod', key: 'vectors-aes', plaintext: b64('old version, new root'), key_version: 1 },
];

const vectors: Array<Case & { ciphertext: string; key_version: number }> = [];
for (const c of cases) {
  const r = await encrypt({
    env: parseEnvironment(c.env),
    name: parseKeyName(c.key),
    mayCreate: false,
    items: [{ plaintext: c.plaintext, context: c.context, associatedData: c.associated_data, keyVersion: c.key_version }],
  });
  const item = r.items[0];
  if (!item?.ok) throw new Error(`vector ${c.id} failed`);
  vectors.push({ ...c, ciphertext: item.ciphertext, key_version: item.keyVersion });
}
const dk = await datakey({ env: parseEnvironment('dev'), name: parseKeyName('vectors-aes'), kind: 'plaintext', bits: 256 });
vectors.push({ id: 'datakey-256', env: 'dev', key: 'vectors-aes', plaintext: dk.plaintext?.toString('base64') ?? '', ciphertext: dk.ciphertext, key_version: dk.keyVersion });

const at = (id: string): string => vectors.find((v) => v.id === id)?.ciphertext ?? '';
const negative = [
  { id: 'wrong-context', env: 'dev', key: 'vectors-derived', ciphertext: at('derived-context'), context: b64('tenant-2') },
  { id: 'wrong-associated-data', env: 'dev', key: 'vectors-aes', ciphertext: at('aes-associated-data'), associated_data: b64('order-43') },
  { id: 'missing-associated-data', env: 'dev', key: 'vectors-aes', ciphertext: at('aes-associated-data') },
  { id: 'other-environment', env: 'prod', key: 'vectors-aes', ciphertext: at('aes-v2-text') },
  { id: 'other-key', env: 'dev', key: 'vectors-derived', ciphertext: at('aes-v1-pinned'), context: b64('tenant-1') },
  { id: 'relabelled-version', env: 'dev', key: 'vectors-aes', ciphertext: at('aes-v1-pinned').replace('vault:v1:', 'vault:v2:') },
];

const file = {
  description:
    'Frozen Keyward transit ciphertexts, envelope format 0x01. Key material is the public test bytes of ' +
    'test/vectors/fixture-hsm.ts. NEVER regenerate or edit: these must decrypt forever.',
  format: 'keyward-transit-envelope-v1',
  keys,
  vectors,
  negative: negative.map((n) => ({ ...n, error: 'ERR_DECRYPTION_FAILED' })),
};
writeFileSync(out, `${JSON.stringify(file, null, 2)}\n`, { flag: 'wx' });
console.log(`wrote ${vectors.length} vectors and ${negative.length} negative cases to ${out}`);
