import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ENVELOPE_OVERHEAD_BYTES, parseEnvelope, serializeEnvelope, type Envelope } from '../../../vault/src/core/envelope.js';
import { KeywardError } from '../../../vault/src/core/errors.js';

function sample(ctLen = 5, keyVersion = 3): Envelope {
  return {
    keyVersion,
    formatVersion: 1,
    sealedDek: crypto.randomBytes(60),
    dataIv: crypto.randomBytes(12),
    dataCiphertext: crypto.randomBytes(ctLen),
    dataTag: crypto.randomBytes(16),
  };
}

function expectDecryptionFailed(input: unknown): void {
  try {
    parseEnvelope(input);
  } catch (e) {
    expect(e).toBeInstanceOf(KeywardError);
    expect((e as KeywardError).code).toBe('ERR_DECRYPTION_FAILED');
    expect((e as KeywardError).message).toBe('decryption failed');
    return;
  }
  throw new Error(`parsed: ${String(input)}`);
}

const b64 = (bytes: Buffer): string => bytes.toString('base64');
const body = (ct: string): Buffer => Buffer.from(ct.split(':')[2] ?? '', 'base64');

describe('envelope', () => {
  it('round-trips every field, including an empty data ciphertext', () => {
    for (const len of [0, 1, 16, 1000]) {
      const e = sample(len, 42);
      const s = serializeEnvelope(e);
      expect(s.startsWith('vault:v42:')).toBe(true);
      const p = parseEnvelope(s);
      expect(p.keyVersion).toBe(42);
      expect(p.formatVersion).toBe(1);
      expect(p.sealedDek.equals(e.sealedDek)).toBe(true);
      expect(p.dataIv.equals(e.dataIv)).toBe(true);
      expect(p.dataCiphertext.equals(e.dataCiphertext)).toBe(true);
      expect(p.dataTag.equals(e.dataTag)).toBe(true);
      expect(body(s).length).toBe(ENVELOPE_OVERHEAD_BYTES + len);
    }
  });

  it('lays out the header byte by byte as documented', () => {
    const e = sample(3, 1);
    const bytes = body(serializeEnvelope(e));
    expect(bytes[0]).toBe(0x01);
    expect(bytes.subarray(1, 61).equals(e.sealedDek)).toBe(true);
    expect(bytes.subarray(61, 73).equals(e.dataIv)).toBe(true);
    expect(bytes.subarray(73, 76).equals(e.dataCiphertext)).toBe(true);
    expect(bytes.subarray(76).equals(e.dataTag)).toBe(true);
  });

  it('refuses to serialise wrong field lengths', () => {
    expect(() => serializeEnvelope({ ...sample(), sealedDek: Buffer.alloc(59) })).toThrow(RangeError);
    expect(() => serializeEnvelope({ ...sample(), keyVersion: 0 })).toThrow(RangeError);
  });

  const good = serializeEnvelope(sample(8, 7));
  const goodBody = body(good);
  const malformed: Array<[string, unknown]> = [
    ['not a string', 42],
    ['empty', ''],
    ['no prefix', good.slice(6)],
    ['wrong prefix', good.replace('vault:', 'vaulx:')],
    ['upper-case prefix', good.replace('vault:', 'VAULT:')],
    ['version 0', good.replace(':v7:', ':v0:')],
    ['leading zero', good.replace(':v7:', ':v07:')],
    ['sign', good.replace(':v7:', ':v+7:')],
    ['negative', good.replace(':v7:', ':v-7:')],
    ['no version', good.replace(':v7:', ':v:')],
    ['version too large', good.replace(':v7:', ':v2147483648:')],
    ['missing v', good.replace(':v7:', ':7:')],
    ['extra colon', `${good}:`],
    ['whitespace', `${good} `],
    ['newline', `${good}\n`],
    ['url-safe base64', `vault:v7:${goodBody.toString('base64url')}`],
    ['missing padding', good.replace(/=+$/, '')],
    ['invalid base64 char', `${good.slice(0, 12)}*${good.slice(13)}`],
    ['non-canonical trailing bits', `vault:v7:${b64(Buffer.alloc(90, 1)).slice(0, -2)}B=`],
    ['too short by one', `vault:v7:${b64(goodBody.subarray(0, ENVELOPE_OVERHEAD_BYTES - 1))}`],
    ['empty body', 'vault:v7:'],
    ['unknown format 0x02', `vault:v7:${b64(Buffer.concat([Buffer.from([2]), goodBody.subarray(1)]))}`],
    ['format 0x00', `vault:v7:${b64(Buffer.concat([Buffer.from([0]), goodBody.subarray(1)]))}`],
  ];
  it.each(malformed)('rejects %s with decryption failed', (_name, input) => {
    expectDecryptionFailed(input);
  });

  it('accepts the minimum length (empty plaintext) and nothing shorter', () => {
    const min = Buffer.concat([Buffer.from([1]), Buffer.alloc(ENVELOPE_OVERHEAD_BYTES - 1)]);
    expect(parseEnvelope(`vault:v1:${b64(min)}`).dataCiphertext.length).toBe(0);
    expectDecryptionFailed(`vault:v1:${b64(min.subarray(1))}`);
  });
});
