/**
 * The shape of a response-wrapping token: `kww_` + 43 base62 characters (exactly 256 random bits from
 * the HSM RNG, as a fixed-width base62 number) + a 6-character base62 CRC-32 checksum, as the AppRole
 * secret-id format does. The prefix lets leak scanners find wrapping tokens; the checksum lets them
 * (and unwrap) reject look-alikes without a database read. The checksum is not a security measure.
 *
 * Only SHA-256(token) is stored: the token has 256 bits of entropy, so a fast hash is enough (no
 * dictionary to brute-force), and the stored hash is compared in constant time after lookup.
 */
import crypto from 'node:crypto';
import { crc32 } from '../../auth/approle/secret-id-format.js';

export const WRAPPING_TOKEN_PREFIX = 'kww_';
export const WRAPPING_TOKEN_BODY_LENGTH = 43; // 62^43 > 2^256
export const WRAPPING_TOKEN_CHECKSUM_LENGTH = 6;
export const WRAPPING_TOKEN_LENGTH = WRAPPING_TOKEN_PREFIX.length + WRAPPING_TOKEN_BODY_LENGTH + WRAPPING_TOKEN_CHECKSUM_LENGTH;
const RANDOM_BYTES = 32;

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const SHAPE = /^kww_[0-9A-Za-z]{49}$/;
/** For leak scanners: candidates in free text; confirm each with isWrappingTokenFormat. */
export const WRAPPING_TOKEN_PATTERN = /\bkww_[0-9A-Za-z]{49}\b/g;

function base62(value: bigint, width: number): string {
  let out = '';
  let v = value;
  for (let i = 0; i < width; i++) {
    out = ALPHABET[Number(v % 62n)] + out;
    v /= 62n;
  }
  return out;
}

function checksum(head: string): string {
  return base62(BigInt(crc32(head)), WRAPPING_TOKEN_CHECKSUM_LENGTH);
}

export async function generateWrappingToken(randomBytes: (length: number) => Promise<Buffer>): Promise<string> {
  const bytes = await randomBytes(RANDOM_BYTES);
  try {
    const head = WRAPPING_TOKEN_PREFIX + base62(BigInt(`0x${bytes.toString('hex')}`), WRAPPING_TOKEN_BODY_LENGTH);
    return head + checksum(head);
  } finally {
    bytes.fill(0);
  }
}

export function isWrappingTokenFormat(value: unknown): value is string {
  if (typeof value !== 'string' || !SHAPE.test(value)) return false;
  const head = value.slice(0, WRAPPING_TOKEN_PREFIX.length + WRAPPING_TOKEN_BODY_LENGTH);
  return checksum(head) === value.slice(head.length);
}

export function hashWrappingToken(token: string): Buffer {
  return crypto.createHash('sha256').update(token, 'utf8').digest();
}

export function sameHash(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}
