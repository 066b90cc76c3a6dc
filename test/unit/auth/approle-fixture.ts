/** Shared set-up for the login-method and MFA unit tests: SQLite ':memory:', MemoryHsm, TokenService, a manual clock. */
import { openDatabase } from '../../../vault/src/adapters/sqlite/database.js';
import { createIdentityServices, type IdentityServices } from '../../../vault/src/http/routes/auth/index.js';
import { makeFixture, type Fixture } from './fixture.js';

export interface IdentityFixture extends Fixture {
  ids: IdentityServices;
}

export async function makeIdentityFixture(): Promise<IdentityFixture> {
  const base = await makeFixture();
  const db = await openDatabase({ file: ':memory:' });
  const ids = createIdentityServices({ db, hsm: base.hsm, tokens: base.service, clock: base.clock, jwks: { fetchTimeoutMs: 2000 } });
  await ids.init();
  return { ...base, ids };
}
