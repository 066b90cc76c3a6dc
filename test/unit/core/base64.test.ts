import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isStrictBase64, strictBase64Padding } from '../../../vault/src/core/base64.js';

/** The validator the data path used before the char-code loop; the new one must accept exactly the same set. */
const REFERENCE_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

// Strings built from base64 characters and the usual near-misses (padding, URL-safe, whitespace, non-ASCII).
const nearBase64 = fc
  .array(fc.constantFrom(...'AQZaz09+/=-_ \n\r\t.é\u0000\u00ff\u0141', 'QQ==', 'QUI=', 'QUJD', '=='), { maxLength: 40 })
  .map((parts) => parts.join(''));

describe('strict base64 validator', () => {
  it('accepts exactly what the reference regex accepts (near-base64 strings)', () => {
    fc.assert(fc.property(nearBase64, (s) => isStrictBase64(s) === REFERENCE_RE.test(s)), { numRuns: 20_000 });
  });

  it('accepts exactly what the reference regex accepts (arbitrary strings and real encodings)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 30 }), fc.base64String({ maxLength: 60 }), fc.uint8Array({ maxLength: 50 }).map((b) => Buffer.from(b).toString('base64'))), (s) =>
        isStrictBase64(s) === REFERENCE_RE.test(s),
      ),
      { numRuns: 20_000 },
    );
  });

  it('reports the padding length of valid input and -1 for invalid input', () => {
    expect(strictBase64Padding('')).toBe(0);
    expect(strictBase64Padding('QUJD')).toBe(0);
    expect(strictBase64Padding('QUI=')).toBe(1);
    expect(strictBase64Padding('QQ==')).toBe(2);
    for (const bad of ['Q===', '====', 'QQ=A', 'QUJD\n', ' QUJD', 'QU-D', 'QU_D', 'QUJ', 'QUJDé===']) expect(strictBase64Padding(bad)).toBe(-1);
  });
});
