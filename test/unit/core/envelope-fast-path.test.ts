/**
 * The data path's hand-written envelope parser and single-buffer AAD encodings against the
 * straightforward implementations they replaced: same acceptance, same bytes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dataAad, dekAad } from '../../../vault/src/core/aad.js';
import { parseEnvelope } from '../../../vault/src/core/envelope.js';
import { parseEnvironment, parseKeyName } from '../../../vault/src/core/types.js';

const OLD_PREFIX_RE = /^vault:v([1-9][0-9]{0,9}):([A-Za-z0-9+/=]*)$/;
const OLD_BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
function oldParse(ciphertext: string): Buffer | null {
  const m = OLD_PREFIX_RE.exec(ciphertext);
  if (!m || m[1] === undefined || m[2] === undefined || Number(m[1]) > 2 ** 31 - 1) return null;
  if (!OLD_BASE64_RE.test(m[2])) return null;
  const bytes = Buffer.from(m[2], 'base64');
  if (bytes.toString('base64') !== m[2] || bytes.length < 89 || bytes[0] !== 1) return null;
  return bytes;
}
function newParse(ciphertext: string): Buffer | null {
  try {
    const e = parseEnvelope(ciphertext);
    return Buffer.concat([Buffer.from([e.formatVersion]), e.sealedDek, e.dataIv, e.dataCiphertext, e.dataTag]);
  } catch {
    return null;
  }
}

const body = fc.uint8Array({ minLength: 85, maxLength: 140 }).map((b) => {
  const bytes = Buffer.from(b);
  bytes[0] = 1;
  return bytes.toString('base64');
});
const mutate = fc.tuple(body, fc.nat(), fc.constantFrom('A', 'B', '=', '-', '_', ' ', '\n', 'é', '')).map(([s, i, c]) => {
  const at = i % (s.length + 1);
  return s.slice(0, at) + c + s.slice(at + 1);
});
const version = fc.oneof(fc.constantFrom('1', '9', '01', '0', '-1', '2147483647', '2147483648', '9999999999', '99999999999', ''), fc.nat().map(String));
const ciphertexts = fc.tuple(fc.constantFrom('vault:v', 'vault:v', 'vault:', 'Vault:v', ''), version, fc.constantFrom(':', ':', '', '::'), fc.oneof(body, mutate)).map((p) => p.join(''));

describe('envelope parser and AAD fast paths', () => {
  it('when any near-valid ciphertext is parsed, then it is accepted exactly when the regex parser accepted it, with the same bytes', () => {
    fc.assert(
      fc.property(ciphertexts, (ct) => {
        const a = oldParse(ct);
        const b = newParse(ct);
        return (a === null && b === null) || (a !== null && b !== null && a.equals(b));
      }),
      { numRuns: 20_000 },
    );
  });

  it('when AADs are encoded, then the bytes equal the length-prefixed concatenation', () => {
    const u32 = (n: number): Buffer => {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(n);
      return b;
    };
    const lp = (b: Uint8Array): Buffer[] => [u32(b.length), Buffer.from(b)];
    const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');
    fc.assert(
      fc.property(fc.nat({ max: 2 ** 32 - 1 }), fc.uint8Array({ maxLength: 40 }), fc.option(fc.uint8Array({ maxLength: 70 }), { nil: undefined }), (v, digest, ad) => {
        const env = parseEnvironment('dev');
        const name = parseKeyName('k-1.a_b');
        const dek = dekAad({ env, name, version: v, contextDigest: digest });
        expect(dek.equals(Buffer.concat([...lp(utf8('keyward/dek/v1')), ...lp(utf8(env)), ...lp(utf8(name)), u32(v), ...lp(digest)]))).toBe(true);
        const sealed = Buffer.from(digest);
        const data = dataAad(1, sealed, ad);
        expect(data.equals(Buffer.concat([...lp(utf8('keyward/data/v1')), Buffer.from([1]), ...lp(sealed), ...lp(ad ?? Buffer.alloc(0))]))).toBe(true);
      }),
      { numRuns: 2_000 },
    );
  });
});
