import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeDatabase } from '../../../vault/src/adapters/sqlite/database.js';
import {
  WRAPPING_TOKEN_LENGTH,
  WRAPPING_TOKEN_PATTERN,
  generateWrappingToken,
  hashWrappingToken,
  isWrappingTokenFormat,
} from '../../../vault/src/usecases/wrapping/index.js';
import { codeOf, env, kvHarness, type KvHarness } from './kv-harness.js';
import crypto from 'node:crypto';

let h: KvHarness;
beforeEach(async () => {
  h = await kvHarness();
});
afterEach(() => closeDatabase(h.db));

const wrap = (data: unknown, ttlSeconds = 60) => h.wrapping.wrapResponse({ env, creationPath: 'secret/data/app', ttlSeconds, payload: { data } });

describe('wrapping token format', () => {
  it('is kww_ + 43 base62 + checksum, and a changed character fails the checksum', async () => {
    const t = await generateWrappingToken(async (n) => crypto.randomBytes(n));
    expect(t).toHaveLength(WRAPPING_TOKEN_LENGTH);
    expect(t.startsWith('kww_')).toBe(true);
    expect(isWrappingTokenFormat(t)).toBe(true);
    expect(`x ${t} y`.match(WRAPPING_TOKEN_PATTERN)).toEqual([t]);
    const i = 10;
    const flipped = t.slice(0, i) + (t[i] === 'a' ? 'b' : 'a') + t.slice(i + 1);
    expect(isWrappingTokenFormat(flipped)).toBe(false);
    expect(isWrappingTokenFormat('kww_short')).toBe(false);
  });

  it('encodes all 256 random bits: different randomness gives different tokens', async () => {
    const zero = await generateWrappingToken(async (n) => Buffer.alloc(n, 0));
    const last = await generateWrappingToken(async (n) => Buffer.concat([Buffer.alloc(n - 1, 0), Buffer.from([1])]));
    const max = await generateWrappingToken(async (n) => Buffer.alloc(n, 0xff));
    expect(new Set([zero, last, max]).size).toBe(3);
    expect(isWrappingTokenFormat(max)).toBe(true);
  });
});

describe('wrapping use cases', () => {
  it('stores only the hash; unwrap returns the payload once, then refuses as reused', async () => {
    const w = await wrap({ password: 'pw-123' });
    const rows = h.db.prepare('SELECT id_hash, accessor, sealed_payload FROM wrapping_tokens').all() as Array<{ id_hash: Buffer; accessor: string; sealed_payload: Buffer }>;
    expect(rows).toHaveLength(1);
    expect(rows[0]?.id_hash.equals(hashWrappingToken(w.token))).toBe(true);
    expect(rows[0]?.sealed_payload.includes(Buffer.from('pw-123'))).toBe(false);
    expect(rows[0]?.sealed_payload.includes(Buffer.from(w.token))).toBe(false);

    const first = await h.wrapping.unwrap({ token: w.token });
    expect(first.ok && first.payload).toEqual({ data: { password: 'pw-123' } });
    const second = await h.wrapping.unwrap({ token: w.token });
    expect(second).toMatchObject({ ok: false, reason: 'reused' });
    expect(h.db.prepare('SELECT sealed_payload FROM wrapping_tokens').get()).toEqual({ sealed_payload: null });
  });

  it('an expired token does not unwrap, and lookup refuses it', async () => {
    const w = await wrap({ a: 1 }, 30);
    expect((await h.wrapping.lookupWrapping({ token: w.token })).creationPath).toBe('secret/data/app');
    h.advance(31);
    expect(await codeOf(h.wrapping.lookupWrapping({ token: w.token }))).toBe('ERR_INVALID_INPUT');
    expect(await h.wrapping.unwrap({ token: w.token })).toEqual({ ok: false, reason: 'expired' });
  });

  it('of two concurrent unwraps exactly one gets the payload', async () => {
    const w = await wrap({ a: 1 });
    const results = await Promise.all([h.wrapping.unwrap({ token: w.token }), h.wrapping.unwrap({ token: w.token }), h.wrapping.unwrap({ token: w.token })]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
  });

  it('a payload moved to another token row does not decrypt', async () => {
    const a = await wrap({ who: 'a' });
    const b = await wrap({ who: 'b' });
    const sealedA = (h.db.prepare('SELECT sealed_payload FROM wrapping_tokens WHERE accessor = ?').get(a.accessor) as { sealed_payload: Buffer }).sealed_payload;
    h.db.prepare('UPDATE wrapping_tokens SET sealed_payload = ? WHERE accessor = ?').run(sealedA, b.accessor);
    expect(await codeOf(h.wrapping.unwrap({ token: b.token }))).toBe('ERR_DECRYPTION_FAILED');
  });

  it('rewrap moves the payload to a new token with the same creation TTL and consumes the old one', async () => {
    const w = await wrap({ a: 1 }, 120);
    const r = await h.wrapping.rewrapWrapping({ token: w.token });
    if (!r.ok) throw new Error('rewrap failed');
    expect(r.wrapped.ttlSeconds).toBe(120);
    expect(r.wrapped.token).not.toBe(w.token);
    expect((await h.wrapping.unwrap({ token: w.token })).ok).toBe(false);
    const u = await h.wrapping.unwrap({ token: r.wrapped.token });
    expect(u.ok && u.payload).toEqual({ data: { a: 1 } });
  });

  it('refuses malformed tokens and out-of-range TTLs', async () => {
    expect(await h.wrapping.unwrap({ token: 'hvs.nope' })).toEqual({ ok: false, reason: 'invalid' });
    expect(await codeOf(wrap({ a: 1 }, 0))).toBe('ERR_INVALID_INPUT');
    expect(await codeOf(wrap({ a: 1 }, 769 * 3600))).toBe('ERR_INVALID_INPUT');
  });
});
