/**
 * Strict standard base64 (RFC 4648 §4, with padding) as Vault's transit API takes it: the one
 * acceptance test shared by the HTTP schema, the transit use cases and the envelope parser.
 *
 * Invariants:
 * - Accepts exactly the strings matched by
 *   /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/ ('' included): no whitespace,
 *   no URL-safe alphabet, no missing padding. Unused trailing bits are NOT checked here (the envelope
 *   parser checks them separately); a property test holds this equal to the regex.
 * - A char-code loop over a lookup table instead of the regex: it runs on every plaintext and
 *   ciphertext of the data path, and the regex's backtracking engine cost several microseconds per KiB.
 */

/** 1 for each char code of the standard alphabet (A-Z a-z 0-9 + /), 0 otherwise. */
const ALPHABET = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/') ALPHABET[c.charCodeAt(0)] = 1;
const PAD = 0x3d; // '='

/** Number of '=' pad characters (0, 1 or 2) if `s` is strict padded base64, else -1. */
export function strictBase64Padding(s: string): number {
  const n = s.length;
  if ((n & 3) !== 0) return -1;
  if (n === 0) return 0;
  let pad = 0;
  if (s.charCodeAt(n - 1) === PAD) pad = s.charCodeAt(n - 2) === PAD ? 2 : 1;
  const end = n - pad;
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || ALPHABET[c] === 0) return -1;
  }
  return pad;
}

export function isStrictBase64(s: string): boolean {
  return strictBase64Padding(s) >= 0;
}
