/**
 * Revocation survives a restart and holds across processes: TokenService over SqliteTokenStore on a
 * real database file. (A "process" here is a separate connection + service over the same file and
 * the same HSM, which is what a second Keyward worker or a restarted one sees.)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryHsm } from '../../../hsm-sim/memory-hsm.js';
import { closeDatabase, openDatabase, type SqliteConnection } from '../../../vault/src/adapters/sqlite/database.js';
import { SqliteTokenStore } from '../../../vault/src/adapters/sqlite/sqlite-token-store.js';
import { TokenService } from '../../../vault/src/auth/token-service.js';
import { ISSUER, ManualClock, PROD, deniedReason } from './fixture.js';

describe('TokenService over SQLite', () => {
  let dir: string;
  let file: string;
  const open: SqliteConnection[] = [];
  const hsm = new MemoryHsm(); // the HSM token outlives the process, like SoftHSM2's files
  const clock = new ManualClock();

  const start = async (options: { cacheVerified?: boolean } = {}): Promise<{ db: SqliteConnection; service: TokenService }> => {
    const db = await openDatabase({ file });
    open.push(db);
    const service = new TokenService({ hsm, store: new SqliteTokenStore(db) }, { issuer: ISSUER, clock, ...options });
    await service.ensureActiveKey();
    return { db, service };
  };

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kw-auth-'));
    file = path.join(dir, 'keyward.db');
  });
  afterEach(() => {
    for (const db of open.splice(0)) closeDatabase(db);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('when the service restarts on the same database, then revoked tokens stay revoked and others still verify', async () => {
    const first = await start();
    const revoked = await first.service.issue({ subject: 'a', authMethod: 'approle', policies: ['p'], env: PROD });
    const kept = await first.service.issue({ subject: 'b', authMethod: 'approle', policies: ['p'], env: PROD });
    const parent = await first.service.verify(revoked.token, { env: PROD });
    const child = await first.service.issue({ subject: 'c', authMethod: 'token', policies: ['p'], env: PROD, parent });
    expect(await first.service.revokeTree(revoked.jti)).toBe(2);
    closeDatabase(first.db);

    const second = await start();
    expect(await deniedReason(second.service.verify(revoked.token, { env: PROD }))).toBe('revoked');
    expect(await deniedReason(second.service.verify(child.token, { env: PROD }))).toBe('revoked');
    await expect(second.service.verify(kept.token, { env: PROD })).resolves.toMatchObject({ subject: 'b' });
    // The signing key was recorded once and reused, not re-created.
    expect((await second.service.jwks()).keys).toHaveLength(1);
  });

  it('when another process revokes, then this process refuses the token at once, even with the verified cache on', async () => {
    const a = await start({ cacheVerified: true });
    const b = await start();
    const issued = await a.service.issue({ subject: 'x', authMethod: 'approle', role: 'web', policies: ['p'], env: PROD });
    await a.service.verify(issued.token, { env: PROD }); // now cached in A
    expect(await b.service.revokeRole('approle', 'web')).toBe(1);
    expect(await deniedReason(a.service.verify(issued.token, { env: PROD }))).toBe('revoked');
  });

  it('when another process rotates the signing key, then this process signs with the new key and verifies both', async () => {
    const a = await start();
    const b = await start();
    const old = await a.service.issue({ subject: 'x', authMethod: 'approle', policies: ['p'], env: PROD });
    const k2 = await b.service.rotateSigningKey({ overlapSeconds: 0 });
    const fresh = await a.service.issue({ subject: 'y', authMethod: 'approle', policies: ['p'], env: PROD });
    expect(JSON.parse(Buffer.from(fresh.token.split('.')[0] as string, 'base64url').toString()).kid).toBe(k2.kid);
    await expect(b.service.verify(old.token, { env: PROD })).resolves.toBeDefined();
    await expect(a.service.verify(fresh.token, { env: PROD })).resolves.toBeDefined();
  });
});
