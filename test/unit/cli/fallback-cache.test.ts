import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openCache, readCache, readKeyFile, sealCache, writeCache } from '../../../clients/cli/run/fallback-cache.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kw-cache-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const secrets = { 'secret/payments/db': { password: 'correct-horse-battery-staple' }, 'secret/payments/api': { key: 'sk_live_0123456789' } };

describe('keyward run fallback cache', () => {
  it('when a cache is written and read with the same key and environment, then the secrets round-trip', () => {
    const key = crypto.randomBytes(32);
    const file = path.join(dir, 'cache.bin');
    writeCache(file, key, 'prod', secrets);
    const back = readCache(file, key, 'prod');
    expect(back.secrets).toEqual(secrets);
    expect(back.namespace).toBe('prod');
    expect(Date.now() - Date.parse(back.writtenAt)).toBeLessThan(60_000);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(dir)).toEqual(['cache.bin']); // no temp file left behind
  });

  it('when the key is wrong, then opening fails with the one decryption error', () => {
    const file = path.join(dir, 'cache.bin');
    writeCache(file, crypto.randomBytes(32), 'prod', secrets);
    expect(() => readCache(file, crypto.randomBytes(32), 'prod')).toThrow(expect.objectContaining({ code: 'ERR_DECRYPTION_FAILED', message: 'decryption failed' }));
  });

  it('when the environment differs, then the cache does not open', () => {
    const key = crypto.randomBytes(32);
    const sealed = sealCache(key, 'prod', secrets);
    expect(() => openCache(key, 'staging', sealed)).toThrow(expect.objectContaining({ code: 'ERR_DECRYPTION_FAILED' }));
  });

  it('when any byte is flipped or the file is truncated, then the cache does not open', () => {
    const key = crypto.randomBytes(32);
    const sealed = sealCache(key, null, secrets);
    for (const i of [0, 4, 5, 20, sealed.length - 1]) {
      const t = Buffer.from(sealed);
      t[i] = t[i]! ^ 0x01;
      expect(() => openCache(key, null, t)).toThrow(expect.objectContaining({ code: 'ERR_DECRYPTION_FAILED' }));
    }
    expect(() => openCache(key, null, sealed.subarray(0, 20))).toThrow(expect.objectContaining({ code: 'ERR_DECRYPTION_FAILED' }));
  });

  it('when the cache file is inspected, then it holds no plaintext: no secret values, paths or field names', () => {
    const file = path.join(dir, 'cache.bin');
    writeCache(file, crypto.randomBytes(32), 'prod', secrets);
    const bytes = fs.readFileSync(file);
    for (const needle of ['correct-horse', 'sk_live', 'payments', 'password', 'written_at']) {
      expect(bytes.includes(Buffer.from(needle))).toBe(false);
      expect(bytes.includes(Buffer.from(Buffer.from(needle).toString('base64').slice(0, 8)))).toBe(false);
    }
    expect(bytes.subarray(0, 5)).toEqual(Buffer.from([0x4b, 0x57, 0x52, 0x43, 0x01])); // "KWRC" v1
  });

  it('when two caches are sealed from the same input, then nonces differ', () => {
    const key = crypto.randomBytes(32);
    expect(sealCache(key, null, secrets).subarray(5, 17).equals(sealCache(key, null, secrets).subarray(5, 17))).toBe(false);
  });

  it('when the key file holds raw, hex or base64 32 bytes, then it is read; otherwise or when missing, it is refused', () => {
    const key = crypto.randomBytes(32);
    const raw = path.join(dir, 'raw');
    const hex = path.join(dir, 'hex');
    const b64 = path.join(dir, 'b64');
    const short = path.join(dir, 'short');
    fs.writeFileSync(raw, key);
    fs.writeFileSync(hex, key.toString('hex') + '\n');
    fs.writeFileSync(b64, key.toString('base64') + '\n');
    fs.writeFileSync(short, crypto.randomBytes(16).toString('hex'));
    expect(readKeyFile(raw)).toEqual(key);
    expect(readKeyFile(hex)).toEqual(key);
    expect(readKeyFile(b64)).toEqual(key);
    expect(() => readKeyFile(short)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_INPUT' }));
    const missing = path.join(dir, 'missing');
    expect(() => readKeyFile(missing)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_INPUT' }));
    expect(fs.existsSync(missing)).toBe(false); // never generated silently
  });
});
