/**
 * Composition root: config → adapters → use cases → routes → app → listener. The only module that
 * reads the environment and the file system for configuration; everything below receives what it
 * needs. `startKeyward` returns a handle whose `close()` drains requests, closes HSM sessions and
 * checkpoints the SQLite WAL (graceful SIGTERM).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { pino, type Logger } from 'pino';
import { openPkcs11Hsm } from './adapters/pkcs11/index.js';
import { closeDatabase, openDatabase } from './adapters/sqlite/database.js';
import { SqliteKeyStore } from './adapters/sqlite/sqlite-key-store.js';
import { SqliteTokenStore } from './adapters/sqlite/sqlite-token-store.js';
import { createAuditTrail } from './audit/index.js';
import { TokenService } from './auth/token-service.js';
import type { KeywardConfig } from './config.js';
import { readSecretFile } from './config.js';
import { KeywardError } from './core/errors.js';
import type { AuditSink } from './core/ports/audit-sink.js';
import type { Hsm } from './core/ports/hsm.js';
import type { KeyStore } from './core/ports/key-store.js';
import { systemClock } from './core/ports/clock.js';
import { parseEnvironment, type Environment } from './core/types.js';
import { buildApp } from './http/app.js';
import { createObservability } from './observability/index.js';
import type { Authenticator, Authorizer } from './http/pipeline-ports.js';
import { rootEvaluator } from './http/pipeline-ports.js';
import type { RouteSpec } from './http/route-spec.js';
import { auditRoutes } from './http/routes/sys/audit-routes.js';
import { healthRoutes } from './http/routes/sys/health.js';
import { transitRoutes } from './http/routes/transit/index.js';
import { kvRoutes } from './http/routes/secret/index.js';
import { makeKvUseCases } from './usecases/kv/wire.js';
import { SqliteSecretStore } from './adapters/sqlite/sqlite-secret-store.js';
import { startServer, type RunningServer } from './http/server.js';
import { makeEnsureEnvironmentRoot } from './usecases/ensure-environment-root.js';
import { makeTransitUseCases } from './usecases/transit/wire.js';

export const KEYWARD_VERSION = '0.1.0';

export interface RunningKeyward {
  readonly url: string;
  readonly server: RunningServer;
  readonly rootToken: string | null;
  close(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  readonly logger?: Logger;
  /** Dev mode: issue (or reuse) a root token and write it to this file (0600). */
  readonly rootTokenFile?: string;
}

export async function startKeyward(config: KeywardConfig, options: StartOptions = {}): Promise<RunningKeyward> {
  const logger = options.logger ?? pino({ level: config.log.level, base: { service: 'keyward' } });
  const clock = systemClock;
  const environments = config.environments.map(parseEnvironment);
  const defaultEnvironment = parseEnvironment(config.defaultEnvironment ?? config.environments[0] ?? 'dev');
  const strictSecrets = !config.dev;

  const db = await openDatabase({ file: config.storage.path });
  const closers: Array<() => Promise<void> | void> = [() => closeDatabase(db)];
  const closeAll = async (): Promise<void> => {
    for (const c of closers.reverse()) {
      try {
        await c();
      } catch (e) {
        logger.warn({ err: e }, 'error during shutdown');
      }
    }
  };
  try {
    const pin = readSecretFile(config.hsm.pinFile, { strictMode: strictSecrets });
    const pkcs11: Hsm = await openPkcs11Hsm({
      modulePath: config.hsm.module,
      tokenLabel: config.hsm.tokenLabel,
      pin,
      sessionPoolSize: config.hsm.sessionPoolSize,
      ...(config.hsm.softhsmConf ? { softhsmConf: config.hsm.softhsmConf } : {}),
    });
    closers.push(() => pkcs11.close());

    const keys = new SqliteKeyStore(db);
    // Observability records through the audit trail, which itself uses the (instrumented) HSM:
    // the audit reference is filled in once the trail exists; nothing records before that.
    let auditSink: AuditSink | null = null;
    const lazyAudit: AuditSink = {
      record: (event) => (auditSink ? auditSink.record(event) : Promise.reject(new KeywardError('ERR_AUDIT_UNAVAILABLE', 'audit log not ready', { retryAfterSeconds: 1 }))),
    };
    const observability = createObservability({ db, audit: lazyAudit, clock, logger, environments, keyFacts: () => keyRotationFacts(keys, environments) });
    const hsm = observability.instrumentHsm(pkcs11);
    const ensureRoot = makeEnsureEnvironmentRoot({ hsm, keys, clock });
    for (const env of environments) await ensureRoot(env);

    const tokens = new TokenService(
      { hsm, store: new SqliteTokenStore(db) },
      { issuer: config.auth.issuer, audience: config.auth.audience, defaultTtlSeconds: config.auth.defaultTtlSeconds, maxTtlSeconds: config.auth.maxTtlSeconds, clock, cacheVerified: true },
    );
    await tokens.ensureActiveKey();

    const authenticator: Authenticator = {
      authenticate: async (token, env) => tokens.verify(token, { env: env ?? defaultEnvironment }),
    };
    const authorizer: Authorizer = { forPrincipal: async () => rootEvaluator };
    const audit = createAuditTrail({ db, hsm, clock, logger });
    await audit.start();
    auditSink = audit.sink;
    closers.push(() => audit.stop());

    const transit = makeTransitUseCases({ hsm, keys, clock });
    const routes: RouteSpec[] = [
      ...healthRoutes({ hsm, version: KEYWARD_VERSION, clusterName: 'keyward', clusterId: clusterId(config) }),
      ...transitRoutes(transit),
      ...kvRoutes(makeKvUseCases({ hsm, keys, secrets: new SqliteSecretStore(db), clock })),
      ...auditRoutes({ audit: audit.service }),
      ...observability.routes,
    ];
    const app = buildApp({ routes, authenticator, authorizer, audit: audit.sink, hooks: observability.hooks, environments, defaultEnvironment, logger });

    const rootToken = options.rootTokenFile ? await ensureRootToken(tokens, options.rootTokenFile, environments) : null;

    const tls = config.tls ? { certPem: fs.readFileSync(config.tls.certFile, 'utf8'), keyPem: fs.readFileSync(config.tls.keyFile, 'utf8') } : null;
    const server = await startServer(app, { listen: config.listen, tls, allowPlainHttp: config.allowPlainHttp });
    logger.info({ url: server.url, environments }, 'keyward listening');
    return {
      url: server.url,
      server,
      rootToken,
      close: async (graceMs = 10_000) => {
        await server.close(graceMs);
        await closeAll();
      },
    };
  } catch (e) {
    await closeAll();
    throw e;
  }
}

/** Per-key rotation facts for the metrics gauges, read on scrape. */
async function keyRotationFacts(keys: KeyStore, environments: readonly Environment[]) {
  const facts: Array<{ env: string; name: string; lastRotatedAt: Date; autoRotatePeriodSeconds: number }> = [];
  for (const env of environments) {
    for (const name of await keys.listKeys(env)) {
      const key = await keys.getKey(env, name);
      if (key) facts.push({ env, name, lastRotatedAt: key.lastRotatedAt, autoRotatePeriodSeconds: key.config.autoRotatePeriodSeconds });
    }
  }
  return facts;
}

function clusterId(config: KeywardConfig): string {
  return crypto.createHash('sha256').update(`keyward:${config.storage.path}`).digest('hex').slice(0, 36);
}

/** Reuse the dev root token while it still verifies; otherwise issue a new one. */
async function ensureRootToken(tokens: TokenService, file: string, environments: readonly Environment[]): Promise<string> {
  try {
    const existing = fs.readFileSync(file, 'utf8').trim();
    if (existing) {
      await tokens.verify(existing, { env: environments[0] as Environment });
      return existing;
    }
  } catch {
    // missing, expired or revoked: issue a new one below
  }
  const issued = await tokens.issueRootToken({});
  fs.writeFileSync(file, `${issued.token}\n`, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
  return issued.token;
}
