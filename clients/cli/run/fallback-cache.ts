/**
 * The encrypted last-known-good cache behind `keyward run --fallback-cache FILE --fallback-key-file K`.
 * Written after every successful fetch; read only when the vault is unreachable.
 *
 * Key file: exactly 32 bytes - as 64 hex characters, as base64 (a trailing newline is ignored), or
 * raw (but 32 printable characters are refused as a password, not a key), e.g.
 * `openssl rand -hex 32 > key`. It is never generated here: a missing or malformed
 * key file is an error, so a cache is never written under a key nobody holds.
 *
 * File format v1 (mode 0600, replaced atomically via a temp file + rename):
 *   bytes 0..3   magic "KWRC"
 *   byte  4      format version 0x01
 *   bytes 5..16  96-bit random nonce (fresh per write; SP 800-38D §8.2.2 random construction - a
 *                cache is rewritten at most once per fetch, far below the 2^32 invocation limit)
 *   bytes 17..32 128-bit GCM tag
 *   bytes 33..   AES-256-GCM ciphertext of UTF-8 JSON
 *                {"v":1,"written_at":ISO-8601,"namespace":string|null,"secrets":{path:{field:value}}}
 *   AAD = bytes 0..4 || UTF-8(namespace or "") - a prod cache will not open as staging.
 * Any failure to open (wrong key, other environment, truncation, tampering) is one error,
 * "decryption failed", with no hint which.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { decryptionFailed, KeywardError } from '../../../vault/src/core/errors.js';

const MAGIC = Buffer.from('KWRC', 'ascii');
const VERSION = 0x01;
const HEADER_LEN = 5;
const NONCE_LEN = 12;
const TAG_LEN = 16;

export interface CacheContents {
  readonly writtenAt: string;
  readonly namespace: string | null;
  readonly secrets: Record<string, Record<string, string>>;
}

export function readKeyFile(file: string): Buffer {
  let raw: Buffer;
  try {
    raw = fs.readFileSync(file);
  } catch {
    throw new KeywardError('ERR_INVALID_INPUT', `cannot read fallback key file ${file} (it is never generated for you: create 32 random bytes, e.g. openssl rand -hex 32)`);
  }
  const text = raw.toString('latin1').trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/]{43}=$/.test(text)) return Buffer.from(text, 'base64');
  // 32 raw bytes - unless they are all printable text: that is a password or a short hex string,
  // not 256 random bits (random bytes are all printable with probability ~(95/256)^32).
  if (raw.length === 32 && !/^[\x20-\x7e]*$/.test(raw.toString('latin1'))) return raw;
  throw new KeywardError('ERR_INVALID_INPUT', `fallback key file ${file} must hold exactly 32 bytes (raw, 64 hex characters or base64)`);
}

/** True when group or others may read the key file; the caller warns. */
export function keyFileTooOpen(file: string): boolean {
  return (fs.statSync(file).mode & 0o077) !== 0;
}

const aad = (namespace: string | null): Buffer => Buffer.concat([MAGIC, Buffer.from([VERSION]), Buffer.from(namespace ?? '', 'utf8')]);

export function sealCache(cacheKey: Buffer, namespace: string | null, secrets: Record<string, Record<string, string>>, now = new Date()): Buffer {
  if (cacheKey.length !== 32) throw new KeywardError('ERR_INVALID_INPUT', 'cache key must be 32 bytes');
  const plaintext = Buffer.from(JSON.stringify({ v: 1, written_at: now.toISOString(), namespace, secrets }), 'utf8');
  const nonce = crypto.randomBytes(NONCE_LEN);
  const cipher = crypto.createCipheriv('aes-256-gcm', cacheKey, nonce, { authTagLength: TAG_LEN });
  cipher.setAAD(aad(namespace));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  plaintext.fill(0);
  return Buffer.concat([MAGIC, Buffer.from([VERSION]), nonce, cipher.getAuthTag(), ciphertext]);
}

export function openCache(cacheKey: Buffer, namespace: string | null, sealed: Buffer): CacheContents {
  if (cacheKey.length !== 32 || sealed.length < HEADER_LEN + NONCE_LEN + TAG_LEN || !sealed.subarray(0, 4).equals(MAGIC) || sealed[4] !== VERSION) throw decryptionFailed();
  const nonce = sealed.subarray(HEADER_LEN, HEADER_LEN + NONCE_LEN);
  const tag = sealed.subarray(HEADER_LEN + NONCE_LEN, HEADER_LEN + NONCE_LEN + TAG_LEN);
  const ciphertext = sealed.subarray(HEADER_LEN + NONCE_LEN + TAG_LEN);
  let plaintext: Buffer;
  try {
    const decipher = crypto.createDecipheriv('aes-256-gcm', cacheKey, nonce, { authTagLength: TAG_LEN });
    decipher.setAAD(aad(namespace));
    decipher.setAuthTag(tag);
    plaintext = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch (cause) {
    throw decryptionFailed(cause);
  }
  try {
    const parsed = JSON.parse(plaintext.toString('utf8')) as { v?: unknown; written_at?: unknown; namespace?: unknown; secrets?: unknown };
    if (parsed.v !== 1 || typeof parsed.written_at !== 'string' || typeof parsed.secrets !== 'object' || parsed.secrets === null) throw decryptionFailed();
    return { writtenAt: parsed.written_at, namespace: typeof parsed.namespace === 'string' ? parsed.namespace : null, secrets: parsed.secrets as Record<string, Record<string, string>> };
  } finally {
    plaintext.fill(0);
  }
}

/** Seal and replace the cache file atomically, mode 0600. */
export function writeCache(file: string, cacheKey: Buffer, namespace: string | null, secrets: Record<string, Record<string, string>>): void {
  const sealed = sealCache(cacheKey, namespace, secrets);
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`);
  const fd = fs.openSync(tmp, 'wx', 0o600);
  try {
    fs.writeSync(fd, sealed);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  fs.chmodSync(file, 0o600);
}

export function readCache(file: string, cacheKey: Buffer, namespace: string | null): CacheContents {
  let sealed: Buffer;
  try {
    sealed = fs.readFileSync(file);
  } catch {
    throw new KeywardError('ERR_NOT_FOUND', `fallback cache ${file} does not exist or cannot be read`);
  }
  return openCache(cacheKey, namespace, sealed);
}
