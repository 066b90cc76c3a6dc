/**
 * The shape of an AppRole secret ID: `kwsid_` + 32 random base62 characters + a 6-character base62
 * CRC-32 checksum, in the manner of GitHub's `ghp_` tokens. The prefix lets leak scanners find
 * secret IDs in logs and repositories; the checksum lets them (and login) reject look-alikes
 * offline, without a database read. The checksum is not a security measure: it guards against
 * typos and false positives; the secret is the 190 bits of randomness (32 × log2 62).
 *
 * Layout: `kwsid_` (6) | body (32, [0-9A-Za-z]) | checksum (6) = 44 characters.
 * checksum = base62(CRC-32/ISO-HDLC over the ASCII bytes of prefix + body), left-padded with '0'.
 * Randomness comes from the caller's RNG (the HSM's); characters are drawn by rejection sampling
 * (bytes ≥ 248 are discarded) so every character is uniform over the 62-symbol alphabet.
 */
export const SECRET_ID_PREFIX = 'kwsid_';
export const SECRET_ID_BODY_LENGTH = 32;
export const SECRET_ID_CHECKSUM_LENGTH = 6;
export const SECRET_ID_LENGTH = SECRET_ID_PREFIX.length + SECRET_ID_BODY_LENGTH + SECRET_ID_CHECKSUM_LENGTH;

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const SHAPE = /^kwsid_[0-9A-Za-z]{38}$/;
/** For leak scanners: finds candidates in free text; confirm each with isValidSecretIdFormat. */
export const SECRET_ID_PATTERN = /\bkwsid_[0-9A-Za-z]{38}\b/g;

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (ISO-HDLC, as zlib) of the string's ASCII/UTF-8 bytes. */
export function crc32(text: string): number {
  let crc = 0xffffffff;
  for (const byte of Buffer.from(text, 'utf8')) crc = (CRC_TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function base62Fixed(value: number, width: number): string {
  let out = '';
  let v = value;
  for (let i = 0; i < width; i++) {
    out = ALPHABET[v % 62] + out;
    v = Math.floor(v / 62);
  }
  return out;
}

export function secretIdChecksum(prefixAndBody: string): string {
  return base62Fixed(crc32(prefixAndBody), SECRET_ID_CHECKSUM_LENGTH);
}

/** A fresh secret ID from `randomBytes` (pass the HSM's RNG). */
export async function generateSecretId(randomBytes: (length: number) => Promise<Buffer>): Promise<string> {
  let body = '';
  while (body.length < SECRET_ID_BODY_LENGTH) {
    for (const byte of await randomBytes(48)) {
      if (byte < 248 && body.length < SECRET_ID_BODY_LENGTH) body += ALPHABET[byte % 62];
    }
  }
  const head = SECRET_ID_PREFIX + body;
  return head + secretIdChecksum(head);
}

/** True if `value` has the prefix, the alphabet, the length and a matching checksum. */
export function isValidSecretIdFormat(value: unknown): value is string {
  if (typeof value !== 'string' || !SHAPE.test(value)) return false;
  const head = value.slice(0, SECRET_ID_PREFIX.length + SECRET_ID_BODY_LENGTH);
  return secretIdChecksum(head) === value.slice(head.length);
}
