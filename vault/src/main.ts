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
import { TokenService, type TokenServiceOptions } from './auth/token-service.js';
import type { KeywardConfig } from './config.js';
import { DEFAULT_PERFORMANCE, readSecretFile } from './config.js';
import { KeywardError } from './core/errors.js';
import type { AuditSink } from './core/ports/audit-sink.js';
import type { Hsm } from './core/ports/hsm.js';
import type { KeyStore } from './core/ports/key-store.js';
import type { SecretStore } from './core/ports/secret-store.js';
import { systemClock, type Clock } from './core/ports/clock.js';
import { parseEnvironment, type Environment } from './core/types.js';
import { buildApp } from './http/app.js';
import { jsHclDecoder } from './adapters/hcl/js-hcl-decoder.js';
import { SqlitePolicyStore } from './adapters/sqlite/sqlite-policy-store.js';
import { tokenAuthenticator } from './auth/token-authenticator.js';
import { criticalPathMfaPolicy } from './auth/mfa/critical-paths.js';
import { approleRoutes, createIdentityServices, jwtAuthRoutes } from './http/routes/auth/index.js';
import { tokenRoutes } from './http/routes/auth/token.js';
import { approleLeakRoutes } from './http/routes/auth/approle-leak.js';
import { incidentRoutes } from './http/routes/sys/incidents.js';
import { SqliteIncidentStore } from './adapters/sqlite/sqlite-incident-store.js';
import { oidcRoutes, wellKnownOpenidConfigurationHandler } from './http/routes/identity/oidc.js';
import { accessReviewRoutes } from './http/routes/sys/access-review.js';
import { capabilityRoutes } from './http/routes/sys/capabilities.js';
import { mfaRoutes } from './http/routes/sys/mfa.js';
import { policyRoutes } from './http/routes/sys/policies.js';
import { makeWrapReply, parseWrapTtlHeader, wrappingRoutes } from './http/routes/sys/wrapping.js';
import { makeWrappingUseCases } from './usecases/wrapping/index.js';
import { makePolicyAdmin } from './usecases/policy-admin.js';
import { makeStoreAuthorizer } from './usecases/authorize.js';
import { makeIdentityRoleSource } from './usecases/identity-role-source.js';
import { createObservability } from './observability/index.js';
import type { KeyRotationFact } from './observability/metrics.js';
import { versionExpiresAt } from './core/keyring.js';
import type { RouteSpec } from './http/route-spec.js';
import { auditRoutes } from './http/routes/sys/audit-routes.js';
import { healthRoutes } from './http/routes/sys/health.js';
import { transitRoutes } from './http/routes/transit/index.js';
import { kvRoutes } from './http/routes/secret/index.js';
import { makeKvUseCases } from './usecases/kv/wire.js';
import { SqliteSecretStore } from './adapters/sqlite/sqlite-secret-store.js';
import { startServer, type RunningServer } from './http/server.js';
import { makeEnsureEnvironmentRoot } from './usecases/ensure-environment-root.js';
import { makeTransitUseCases, type TransitPerformanceOptions } from './usecases/transit/wire.js';
import { makeKeyRecordCache } from './usecases/transit/key-cache.js';
import { makeDekCachePolicy } from './usecases/transit/dek-cache-policy.js';
import { DekCache } from './core/dek-cache.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BreakerHsm, type BreakerHsmOptions } from './resilience/breaker-hsm.js';
import { BufferedRandomHsm } from './core/buffered-random-hsm.js';
import { lifecycleOptionsFromEnv, wireLifecycle, type LifecycleOptions } from './lifecycle/wire.js';
import { SqliteRewrapJobStore } from './adapters/sqlite/sqlite-rewrap-job-store.js';
import { wireRewrap } from './usecases/rewrap/wire.js';
import { rewrapRoutes } from './http/routes/sys/rewrap.js';
import { wireIncidentPlaybooks } from './usecases/incidents/wire.js';
import { incidentPlaybookRoutes } from './http/routes/sys/incident-playbooks.js';

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
  /** Tests and the soak: wrap the PKCS#11 adapter (e.g. in a FaultyHsm) before the circuit breaker. */
  readonly wrapHsm?: (hsm: Hsm) => Hsm;
  /** Circuit-breaker tuning (timeouts, threshold, cool-down); defaults suit production. */
  readonly breaker?: BreakerHsmOptions;
  /**
   * Run this process's background timers (audit checkpoint interval). Default true; with
   * `--workers N` only worker #1 runs them (jobs that take a store lease are safe anyway).
   */
  readonly backgroundJobs?: boolean;
  /** Tests only: answer every request with `X-Keyward-Worker: <id>` (which cluster worker served it). */
  readonly workerIdHeader?: string;
  /** Key lifecycle knobs (scheduler tick, grace periods); override the KEYWARD_* environment ones. */
  readonly lifecycle?: LifecycleOptions;
}

export async function startKeyward(config: KeywardConfig, options: StartOptions = {}): Promise<RunningKeyward> {
  const logger = options.logger ?? pino({ level: config.log.level, base: { service: 'keyward' } });
  const clock = systemClock;
  const environments = config.environments.map(parseEnvironment);
  const defaultEnvironment = parseEnvironment(config.defaultEnvironment ?? config.environments[0] ?? 'dev');

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
    const pkcs11 = await openHsmFromConfig(config);
    closers.push(() => pkcs11.close());

    // One key-record cache for the process: every module writes keys through its store, so any
    // write (rotation, lifecycle transition, root re-wrap) invalidates what encrypt/decrypt read.
    const recordCache = makeKeyRecordCache(new SqliteKeyStore(db), { ttlMs: config.performance.keyRecordCacheTtlMs });
    const keys = recordCache.store;
    // Observability records through the audit trail, which itself uses the (instrumented) HSM:
    // the audit reference is filled in once the trail exists; nothing records before that.
    let auditSink: AuditSink | null = null;
    const lazyAudit: AuditSink = {
      record: (event) => (auditSink ? auditSink.record(event) : Promise.reject(new KeywardError('ERR_AUDIT_UNAVAILABLE', 'audit log not ready', { retryAfterSeconds: 1 }))),
    };
    const observability = createObservability({ db, audit: lazyAudit, clock, logger, environments, keyFacts: () => keyRotationFacts(keys, environments) });
    // Timeout + circuit breaker around the device: a dead or hung token fails fast with 503.
    const breakerHsm = new BreakerHsm(options.wrapHsm?.(pkcs11) ?? pkcs11, options.breaker);
    // Small random draws (a DEK per message) come from a device-RNG batch: one port call per 4 KiB.
    const hsm = new BufferedRandomHsm(observability.instrumentHsm(breakerHsm));
    const ensureRoot = makeEnsureEnvironmentRoot({ hsm, keys, clock });
    for (const env of environments) await ensureRoot(env);

    const tokenStore = new SqliteTokenStore(db);
    const tokens = new TokenService({ hsm, store: tokenStore }, tokenServiceOptions(config, clock));
    await tokens.ensureActiveKey();

    const authenticator = tokenAuthenticator(tokens, defaultEnvironment);
    const policyStore = new SqlitePolicyStore(db);
    const authorizer = makeStoreAuthorizer({ store: policyStore, clock });
    const policyAdmin = makePolicyAdmin({ store: policyStore, decoder: jsHclDecoder, clock, onChange: (env) => authorizer.invalidate(env) });
    const identity = createIdentityServices({ db, hsm, tokens, clock });
    await identity.init();
    const roles = makeIdentityRoleSource(identity.store);
    const criticalMfa = criticalPathMfaPolicy(config.mfaExemptEnvironments, 'totp');
    const audit = createAuditTrail({
      db,
      hsm,
      clock,
      logger,
      // Adaptive group commit in a writer thread; a fixed window only when configured above the default.
      ...(config.performance.auditGroupCommitMs > DEFAULT_PERFORMANCE.auditGroupCommitMs ? { groupCommitMs: config.performance.auditGroupCommitMs } : {}),
      ...(options.backgroundJobs === false ? { checkpointIntervalMs: 0 } : {}),
    });
    await audit.start();
    auditSink = audit.sink;
    closers.push(() => audit.stop());

    const transit = makeTransitUseCases({ hsm, keys, clock, recordCache }, transitPerformance(config));
    const secretStore = new SqliteSecretStore(db);
    const incidents = new SqliteIncidentStore(db);
    const wrapping = makeWrappingUseCases({ hsm, keys, store: secretStore, clock });
    const rewrapDelay = process.env['KEYWARD_TEST_REWRAP_BATCH_DELAY_MS'];
    const rewrap = wireRewrap({
      hsm,
      keys,
      secrets: secretStore,
      jobs: new SqliteRewrapJobStore(db),
      rotateKey: transit.rotateKey,
      clock,
      environments,
      logger,
      ...(rewrapDelay && /^\d{1,6}$/.test(rewrapDelay) ? { options: { batchDelayMs: Number(rewrapDelay) } } : {}),
    });
    const lifecycle = wireLifecycle({ hsm, keys, clock, audit: audit.sink, db, environments, logger, usedVersions: rewrap.usedVersions, options: { ...lifecycleOptionsFromEnv(process.env), ...options.lifecycle } });
    // Playbooks match audit entries by HMAC(accessor), exactly as the trail stores them.
    const playbooks = wireIncidentPlaybooks({
      incidents,
      audit: audit.service,
      hashAccessor: (accessor: string) => audit.hasher.hashAccessor(accessor),
      tokens: {
        listBySubject: (subject) => tokenStore.listBySubject(subject, 1000),
        lookupAccessor: (accessor) => tokens.lookupAccessor(accessor),
        revokeAccessor: (accessor, reason) => tokens.revokeAccessor(accessor, reason),
        revokeSubject: (subject, reason) => tokens.revokeSubject(subject, reason),
      },
      clock,
      keys,
      transitionVersion: lifecycle.transitLifecycle.transitionVersion,
      rotateKey: transit.rotateKey,
      updateKeyConfig: transit.updateKeyConfig,
      rewrap,
      approle: identity.approle,
    });
    const routes: RouteSpec[] = [
      ...healthRoutes({ hsm, version: KEYWARD_VERSION, clusterName: 'keyward', clusterId: clusterId(config), extras: async () => ({ hsm_circuit: breakerHsm.snapshot(), ...(await lifecycle.healthExtras()) }) }),
      ...transitRoutes({ ...transit, lifecycle: lifecycle.transitLifecycle }),
      ...lifecycle.routes,
      ...rewrapRoutes({ job: rewrap.job, runInBackground: rewrap.runInBackground }),
      // Before incidentRoutes: its `sys/incidents/:id` would otherwise take these paths.
      ...incidentPlaybookRoutes(playbooks),
      ...kvRoutes(makeKvUseCases({ hsm, keys, secrets: secretStore, clock })),
      ...auditRoutes({ audit: audit.service }),
      ...observability.routes,
      ...wrappingRoutes({
        ...wrapping,
        onWrappingReuse: (info) =>
          observability.anomalies.raise(
            {
              atMs: info.attemptedAt.getTime(),
              subject: `wrapping-token:${info.accessor}`,
              role: null,
              authMethod: 'wrapping',
              env: info.env,
              sourceAddress: info.sourceAddress ?? 'unknown',
              aclPath: 'sys/wrapping/unwrap',
              requestId: info.requestId ?? '',
              keyName: null,
              status: 400,
              errorCode: 'ERR_INVALID_INPUT',
            },
            { kind: 'wrapping_reuse', details: { accessor: info.accessor, creation_path: info.creationPath, first_used_at: info.firstUsedAt?.toISOString() ?? null } },
          ),
      }),
      ...tokenRoutes({ tokens, clock }),
      ...oidcRoutes({ tokens, issuer: config.auth.issuer }),
      ...approleRoutes({ approle: identity.approle }),
      ...approleLeakRoutes({ approle: identity.approle }),
      ...incidentRoutes({ store: incidents, clock }),
      ...jwtAuthRoutes({ jwtAuth: identity.jwtAuth }),
      ...mfaRoutes({ mfa: identity.mfa }),
      ...policyRoutes({ admin: policyAdmin, roles }),
      ...capabilityRoutes({ tokens, acls: authorizer, clock }),
      ...accessReviewRoutes({
        admin: policyAdmin,
        roles,
        listKeys: (env) => keys.listKeys(env),
        listSecretPaths: (env) => listAllSecretPaths(secretStore, env),
      }),
    ];
    const app = buildApp({
      routes,
      authenticator,
      authorizer,
      mfa: identity.mfaVerifier,
      requiredMfa: criticalMfa.requiredMfaFor,
      wrapping: { parseTtl: parseWrapTtlHeader, wrap: makeWrapReply(wrapping) },
      audit: audit.sink,
      hooks: observability.hooks,
      environments,
      defaultEnvironment,
      logger,
      rawRoutes: [{ path: '/.well-known/openid-configuration', handler: wellKnownOpenidConfigurationHandler({ issuer: config.auth.issuer }) }],
    });

    const rootToken = options.rootTokenFile ? await ensureRootToken(tokens, options.rootTokenFile, environments) : null;

    const tls = config.tls ? { certPem: fs.readFileSync(config.tls.certFile, 'utf8'), keyPem: fs.readFileSync(config.tls.keyFile, 'utf8') } : null;
    const workerId = options.workerIdHeader;
    const handler = workerId === undefined ? app : (req: IncomingMessage, res: ServerResponse) => (res.setHeader('X-Keyward-Worker', workerId), app(req, res));
    const server = await startServer(handler, { listen: config.listen, tls, allowPlainHttp: config.allowPlainHttp });
    logger.info({ url: server.url, environments }, 'keyward listening');
    // Resumes any root rotation a crash interrupted, then ticks the lifecycle scheduler (lease-guarded).
    lifecycle.start();
    closers.push(() => lifecycle.stop());
    // Resumes a bulk rewrap a crash interrupted (lease-guarded, from its persisted cursor).
    rewrap.start();
    closers.push(() => rewrap.stop());
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

/** Every secret path of an environment (for the access review), walking the KV folders. */
async function listAllSecretPaths(store: Pick<SecretStore, 'listChildren'>, env: Environment): Promise<string[]> {
  const paths: string[] = [];
  const walk = async (prefix: string): Promise<void> => {
    for (const child of await store.listChildren(env, prefix)) {
      if (child.endsWith('/')) await walk(prefix + child);
      else paths.push(prefix + child);
    }
  };
  await walk('');
  return paths;
}

/** Per-key rotation facts for the metrics gauges, read on scrape. */
async function keyRotationFacts(keys: KeyStore, environments: readonly Environment[]) {
  const facts: KeyRotationFact[] = [];
  for (const env of environments) {
    for (const name of await keys.listKeys(env)) {
      const key = await keys.getKey(env, name);
      if (!key) continue;
      const latest = key.versions.find((v) => v.version === key.latestVersion);
      facts.push({
        env,
        name,
        lastRotatedAt: key.lastRotatedAt,
        autoRotatePeriodSeconds: key.config.autoRotatePeriodSeconds,
        latestVersionExpiresAt: latest ? versionExpiresAt(key, latest) : null,
      });
    }
  }
  return facts;
}

/** The transit data-path levers from config `performance` (BENCHMARKS.md). */
function transitPerformance(config: KeywardConfig): TransitPerformanceOptions {
  const p = config.performance;
  const d = p.dekCache;
  const dekCache = d.enabled
    ? makeDekCachePolicy(new DekCache({ maxMessages: d.maxMessages, maxBytes: d.maxBytes, maxAgeMs: d.maxAgeSeconds * 1000, maxEntries: d.maxEntries }), d.excludeKeys)
    : undefined;
  return { keyRecordCacheTtlMs: p.keyRecordCacheTtlMs, ...(dekCache ? { dekCache } : {}) };
}

/** The PKCS#11 adapter as the configuration describes it (PIN from its file; strict mode outside dev). */
export async function openHsmFromConfig(config: KeywardConfig): Promise<Hsm> {
  const pin = readSecretFile(config.hsm.pinFile, { strictMode: !config.dev });
  return openPkcs11Hsm({
    modulePath: config.hsm.module,
    tokenLabel: config.hsm.tokenLabel,
    pin,
    sessionPoolSize: config.hsm.sessionPoolSize,
    keyCacheSize: config.performance.hsmKeyCacheSize,
    callMode: config.performance.hsmCallMode,
    ...(config.hsm.softhsmConf ? { softhsmConf: config.hsm.softhsmConf } : {}),
  });
}

export function tokenServiceOptions(config: KeywardConfig, clock: Clock): TokenServiceOptions {
  return {
    issuer: config.auth.issuer,
    audience: config.auth.audience,
    defaultTtlSeconds: config.auth.defaultTtlSeconds,
    maxTtlSeconds: config.auth.maxTtlSeconds,
    clock,
    cacheVerified: config.performance.verifiedTokenCache,
  };
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
