/**
 * FixtureHsm — TEST ONLY. An Hsm for the frozen transit vectors (transit-v1.json), whose root KEKs and
 * key-version KEKs are fixed, published byte patterns. These bytes are public: nothing encrypted under
 * them is secret, and this class must never be wired into a server.
 *
 * It keeps MemoryHsm's semantics (key versions travel KWP-wrapped under a root, RFC 5649; seal/open are
 * AES-256-GCM with a 12-byte IV and 16-byte tag; every open failure is ERR_DECRYPTION_FAILED), so the
 * vectors exercise exactly the byte layout the real adapters produce. Do not change any constant here:
 * the committed vectors would stop decrypting, which is the point of the vector test.
 */
import crypto from 'node:crypto';
import { decryptionFailed } from '../../vault/src/core/errors.js';
import type { Hsm, RootKeyRef, WrappedKeyRef } from '../../vault/src/core/ports/hsm.js';

const KWP = 'id-aes256-wrap-pad';
const KWP_IV = Buffer.from('a65959a6', 'hex'); // RFC 5649 §3

const pattern = (start: number): Buffer => Buffer.from(Array.from({ length: 32 }, (_, i) => (start + i) & 0xff));

/** Root KEK per term (same for every environment): term 1 = 00 01 .. 1f, term 2 = 80 81 .. 9f. */
export const FIXTURE_ROOT_KEKS: Readonly<Record<number, Buffer>> = { 1: pattern(0x00), 2: pattern(0x80) };
/** Key-version KEKs: version 1 = 20 21 .. 3f, version 2 = 40 41 .. 5f, version 3 = 60 61 .. 7f. */
export const FIXTURE_VERSION_KEKS: Readonly<Record<number, Buffer>> = { 1: pattern(0x20), 2: pattern(0x40), 3: pattern(0x60) };

function rootKek(root: RootKeyRef): Buffer {
  const kek = FIXTURE_ROOT_KEKS[root.term];
  if (!kek) throw decryptionFailed();
  return kek;
}

export function fixtureWrap(term: number, version: number): Buffer {
  const kek = FIXTURE_VERSION_KEKS[version];
  if (!kek) throw new RangeError('no fixture KEK for this version');
  const cipher = crypto.createCipheriv(KWP, rootKek({ env: 'dev' as RootKeyRef['env'], term }), KWP_IV);
  return Buffer.concat([cipher.update(kek), cipher.final()]);
}

function unwrap(key: WrappedKeyRef): Buffer {
  try {
    const decipher = crypto.createDecipheriv(KWP, rootKek(key.root), KWP_IV);
    return Buffer.concat([decipher.update(key.wrappedKek), decipher.final()]);
  } catch (e) {
    throw decryptionFailed(e);
  }
}

export class FixtureHsm implements Pick<Hsm, 'seal' | 'open' | 'randomBytes'> {
  async seal(key: WrappedKeyRef, plaintext: Uint8Array, aad: Uint8Array): Promise<Buffer> {
    const iv = crypto.randomBytes(12);
    const cipher = crypto.createCipheriv('aes-256-gcm', unwrap(key), iv);
    cipher.setAAD(aad);
    return Buffer.concat([iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  }

  async open(key: WrappedKeyRef, sealed: Uint8Array, aad: Uint8Array): Promise<Buffer> {
    const kek = unwrap(key);
    const buf = Buffer.from(sealed);
    if (buf.length < 28) throw decryptionFailed();
    try {
      const decipher = crypto.createDecipheriv('aes-256-gcm', kek, buf.subarray(0, 12));
      decipher.setAAD(aad);
      decipher.setAuthTag(buf.subarray(buf.length - 16));
      return Buffer.concat([decipher.update(buf.subarray(12, buf.length - 16)), decipher.final()]);
    } catch (e) {
      throw decryptionFailed(e);
    }
  }

  async randomBytes(length: number): Promise<Buffer> {
    return crypto.randomBytes(length);
  }
}
