/**
 * Sealing of TOTP enrolment secrets at rest.
 *
 * Choice (documented per the brief): each record gets a fresh 32-byte random salt from the HSM RNG;
 * its data key is HMAC-SHA256 under the HSM key `keyward-mfa-totp-seal-1` over ("keyward-totp-dek",
 * salt) — an HKDF-Expand-like, one-block derivation (RFC 5869 §2.3 with the HSM holding the PRK). The
 * secret is then AES-256-GCM sealed in node:crypto under that key with a random 96-bit IV
 * (SP 800-38D §8.2.2: each key is used for exactly one message, so IV reuse cannot happen), AAD
 * binding environment, method and subject so a sealed secret cannot be moved to another user.
 * Why not `hsm.seal`: that needs a transit key version (WrappedKeyRef) and its lifecycle; why not a
 * fixed HMAC output as the key: deterministic, one key for every record. The HMAC key never leaves
 * the HSM; a copied database alone opens nothing.
 *
 * Layout: version(1)=0x01 | salt(32) | iv(12) | ciphertext | tag(16). Any failure to open is
 * ERR_DECRYPTION_FAILED (one message).
 */
import crypto from 'node:crypto';
import { decryptionFailed } from '../../core/errors.js';
import type { Hsm } from '../../core/ports/hsm.js';

export const TOTP_SEAL_KEY = 'keyward-mfa-totp-seal-1';
const VERSION = 0x01;
const SALT = 32;
const IV = 12;
const TAG = 16;

export type SealHsm = Pick<Hsm, 'hmacSha256' | 'randomBytes' | 'ensureMacKey'>;

export function totpAad(env: string, methodName: string, subject: string): Buffer {
  return Buffer.from(`keyward-totp\0${env}\0${methodName}\0${subject}`, 'utf8');
}

async function dataKey(hsm: SealHsm, salt: Buffer): Promise<Buffer> {
  return hsm.hmacSha256(TOTP_SEAL_KEY, Buffer.concat([Buffer.from('keyward-totp-dek\0', 'utf8'), salt]));
}

export async function sealTotpSecret(hsm: SealHsm, secret: Uint8Array, aad: Uint8Array): Promise<Buffer> {
  const salt = await hsm.randomBytes(SALT);
  const iv = await hsm.randomBytes(IV);
  const key = await dataKey(hsm, salt);
  try {
    const cipher = crypto.createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(aad);
    const ct = Buffer.concat([cipher.update(secret), cipher.final()]);
    return Buffer.concat([Buffer.from([VERSION]), salt, iv, ct, cipher.getAuthTag()]);
  } finally {
    key.fill(0);
  }
}

export async function openTotpSecret(hsm: SealHsm, sealed: Uint8Array, aad: Uint8Array): Promise<Buffer> {
  const buf = Buffer.from(sealed);
  if (buf.length < 1 + SALT + IV + TAG + 1 || buf[0] !== VERSION) throw decryptionFailed();
  const salt = buf.subarray(1, 1 + SALT);
  const iv = buf.subarray(1 + SALT, 1 + SALT + IV);
  const ct = buf.subarray(1 + SALT + IV, buf.length - TAG);
  const tag = buf.subarray(buf.length - TAG);
  const key = await dataKey(hsm, Buffer.from(salt));
  try {
    const decipher = crypto.createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ct), decipher.final()]);
  } catch (e) {
    throw decryptionFailed(e);
  } finally {
    key.fill(0);
  }
}
