/**
 * `keyward operator generate-root`: the production way to obtain a root token (dev mode writes
 * one at start). Like Vault's generate-root it is an explicit operator act, not a side effect of
 * starting the server: it opens the store and the HSM with the server's configuration (the server
 * may be running: SQLite WAL and the PKCS#11 token are shared between processes), records an audit
 * entry before issuing (fail closed), issues a short-lived root token signed in the HSM, and records
 * its accessor. Revoke it (`auth/token/revoke-self`) once policies and roles are in place.
 */
import crypto from 'node:crypto';
import type { Logger } from 'pino';
import { closeDatabase, openDatabase } from '../adapters/sqlite/database.js';
import { SqliteTokenStore } from '../adapters/sqlite/sqlite-token-store.js';
import { createAuditTrail } from '../audit/index.js';
import { TokenService, type IssuedToken } from '../auth/token-service.js';
import type { KeywardConfig } from '../config.js';
import { systemClock } from '../core/ports/clock.js';
import { openHsmFromConfig, tokenServiceOptions } from '../main.js';

export async function generateRootToken(config: KeywardConfig, options: { ttlSeconds: number; logger: Logger }): Promise<IssuedToken> {
  const clock = systemClock;
  const db = await openDatabase({ file: config.storage.path });
  try {
    const hsm = await openHsmFromConfig(config);
    try {
      const tokens = new TokenService({ hsm, store: new SqliteTokenStore(db) }, tokenServiceOptions(config, clock));
      await tokens.ensureActiveKey();
      const audit = createAuditTrail({ db, hsm, clock, logger: options.logger, checkpointIntervalMs: 0 });
      await audit.start();
      try {
        const requestId = crypto.randomUUID();
        const base = { type: 'lifecycle' as const, requestId, operation: 'operator.generate_root', path: 'operator/generate-root' };
        await audit.sink.record({ ...base, time: clock.now(), details: { ttl_seconds: options.ttlSeconds } });
        const issued = await tokens.issueRootToken({ ttlSeconds: options.ttlSeconds });
        await audit.sink.record({ ...base, time: clock.now(), outcome: 'success', details: { accessor: issued.accessor, expires_at: issued.expiresAt.toISOString() } });
        return issued;
      } finally {
        await audit.stop();
      }
    } finally {
      await hsm.close();
    }
  } finally {
    closeDatabase(db);
  }
}
