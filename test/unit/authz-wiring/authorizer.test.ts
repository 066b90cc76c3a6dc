/** The store-backed authorizer: policy loading per environment, ACL caching with version checks, MFA merge. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeDatabase, openDatabase, type SqliteConnection } from '../../../vault/src/adapters/sqlite/database.js';
import { SqlitePolicyStore } from '../../../vault/src/adapters/sqlite/sqlite-policy-store.js';
import { jsHclDecoder } from '../../../vault/src/adapters/hcl/js-hcl-decoder.js';
import type { PolicyStore } from '../../../vault/src/core/ports/policy-store.js';
import { parseEnvironment } from '../../../vault/src/core/types.js';
import type { RequestPrincipal } from '../../../vault/src/http/route-spec.js';
import { makeStoreAuthorizer } from '../../../vault/src/usecases/authorize.js';
import { makePolicyAdmin } from '../../../vault/src/usecases/policy-admin.js';
import { ManualClock } from '../auth/fixture.js';

const DEV = parseEnvironment('dev');
const PROD = parseEnvironment('prod');
let db: SqliteConnection;
let store: PolicyStore;
let reads: { getCurrent: number; currentVersions: number };
let clock: ManualClock;

function principal(policies: string[]): RequestPrincipal {
  const now = new Date();
  return { jti: 'j', accessor: 'a', subject: 's', authMethod: 'token', role: null, policies, env: 'dev', isRoot: false, issuedAt: now, expiresAt: new Date(now.getTime() + 60_000) };
}
const doc = (paths: Record<string, unknown>): string => JSON.stringify({ path: paths });

beforeEach(async () => {
  db = await openDatabase({ file: ':memory:' });
  const real = new SqlitePolicyStore(db);
  reads = { getCurrent: 0, currentVersions: 0 };
  store = Object.assign(Object.create(real) as PolicyStore, {
    getCurrent: (env: typeof DEV, names: readonly string[]) => (reads.getCurrent++, real.getCurrent(env, names)),
    currentVersions: (env: typeof DEV, names: readonly string[]) => (reads.currentVersions++, real.currentVersions(env, names)),
  });
  clock = new ManualClock();
});
afterEach(() => closeDatabase(db));

describe('store authorizer', () => {
  it('grants what the policy says in its environment only, with default attached', async () => {
    const admin = makePolicyAdmin({ store, decoder: jsHclDecoder });
    await admin.write(DEV, 'app', 'path "transit/encrypt/orders" { capabilities = ["update"] }', 'alice');
    const auth = makeStoreAuthorizer({ store, clock });
    const dev = await auth.forPrincipal(principal(['app']), DEV);
    expect(dev.evaluate('transit/encrypt/orders', 'update')).toMatchObject({ allowed: true, grantingPolicies: ['app'], reason: 'granted' });
    expect(dev.evaluate('transit/encrypt/other', 'update')).toMatchObject({ allowed: false, reason: 'no-matching-path' });
    expect(dev.evaluate('transit/encrypt/orders', 'deny')).toMatchObject({ allowed: false });
    expect(dev.evaluate('auth/token/lookup-self', 'read')).toMatchObject({ allowed: true, grantingPolicies: ['default'] });
    const prod = await auth.forPrincipal(principal(['app']), PROD);
    expect(prod.evaluate('transit/encrypt/orders', 'update').allowed).toBe(false);
  });

  it('caches the compiled ACL for the TTL, then revalidates by version and sees a change made elsewhere', async () => {
    const writer = makePolicyAdmin({ store }); // another process: no onChange wired to this authorizer
    await writer.write(DEV, 'app', doc({ 'secret/data/a': { capabilities: ['read'] } }), 'alice');
    const auth = makeStoreAuthorizer({ store, clock, cacheTtlMs: 1000 });
    reads = { getCurrent: 0, currentVersions: 0 };
    await auth.forPrincipal(principal(['app']), DEV);
    await auth.forPrincipal(principal(['app']), DEV);
    expect(reads).toEqual({ getCurrent: 1, currentVersions: 0 });

    await writer.write(DEV, 'app', doc({ 'secret/data/b': { capabilities: ['read'] } }), 'alice');
    reads = { getCurrent: 1, currentVersions: 0 }; // the writer's own reads are not the authorizer's
    // Within the TTL the old ACL is still used (documented bound) …
    expect((await auth.forPrincipal(principal(['app']), DEV)).evaluate('secret/data/b', 'read').allowed).toBe(false);
    clock.advance(1.5);
    // … after it, one version check finds the change and rebuilds.
    const after = await auth.forPrincipal(principal(['app']), DEV);
    expect(after.evaluate('secret/data/b', 'read').allowed).toBe(true);
    expect(after.evaluate('secret/data/a', 'read').allowed).toBe(false);
    expect(reads).toEqual({ getCurrent: 2, currentVersions: 1 });

    clock.advance(1.5);
    await auth.forPrincipal(principal(['app']), DEV);
    expect(reads).toEqual({ getCurrent: 2, currentVersions: 2 }); // unchanged: revalidated, not rebuilt
  });

  it('applies an in-process change at once through invalidate, including a delete', async () => {
    const auth = makeStoreAuthorizer({ store, clock, cacheTtlMs: 60_000 });
    const admin = makePolicyAdmin({ store, onChange: (env) => auth.invalidate(env) });
    await admin.write(DEV, 'app', doc({ 'secret/data/a': { capabilities: ['read'] } }), 'alice');
    expect((await auth.forPrincipal(principal(['app']), DEV)).evaluate('secret/data/a', 'read').allowed).toBe(true);
    await admin.remove(DEV, 'app', 'alice');
    expect((await auth.forPrincipal(principal(['app']), DEV)).evaluate('secret/data/a', 'read').allowed).toBe(false);
  });

  it('unions the extra MFA rule into allowed decisions only', async () => {
    const admin = makePolicyAdmin({ store });
    await admin.write(DEV, 'app', doc({ 'transit/decrypt/*': { capabilities: ['update'], mfa_methods: ['totp'] }, 'transit/encrypt/*': { capabilities: ['update'] } }), 'alice');
    const auth = makeStoreAuthorizer({ store, clock, extraMfa: (env, path, cap) => (path.startsWith('transit/') && cap === 'update' ? ['totp', 'hw-key'] : []) });
    const ev = await auth.forPrincipal(principal(['app']), DEV);
    expect([...ev.evaluate('transit/decrypt/k', 'update').mfaMethods].sort()).toEqual(['hw-key', 'totp']);
    expect([...ev.evaluate('transit/encrypt/k', 'update').mfaMethods].sort()).toEqual(['hw-key', 'totp']);
    expect(ev.evaluate('transit/rewrap/k', 'update')).toMatchObject({ allowed: false, mfaMethods: [] });
  });

  it('resolves root to an all-allowing ACL', async () => {
    const auth = makeStoreAuthorizer({ store, clock });
    expect((await auth.aclFor(['root'], DEV)).capabilities('anything')).toEqual(['root']);
  });
});

describe('policy admin', () => {
  it('keeps versions, reads the built-in default and refuses root/default deletion', async () => {
    const admin = makePolicyAdmin({ store });
    expect((await admin.read(DEV, 'default'))?.version).toBe(0);
    expect((await admin.history(DEV, 'default'))[0]).toMatchObject({ version: 0, author: 'built-in' });
    const c1 = await admin.write(DEV, 'default', doc({ 'sys/capabilities-self': { capabilities: ['update'] } }), 'alice');
    expect(c1.version).toBe(1);
    expect(c1.diff.paths.some((p) => p.path === 'auth/token/lookup-self' && p.change === 'removed')).toBe(true);
    await expect(admin.remove(DEV, 'default', 'a')).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' });
    await expect(admin.remove(DEV, 'root', 'a')).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' });
    await expect(admin.write(DEV, 'root', doc({}), 'a')).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' });
    expect(await admin.remove(DEV, 'never', 'a')).toBeNull();
    await expect(admin.diff(DEV, 'default', 0, 7)).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
  });
});
