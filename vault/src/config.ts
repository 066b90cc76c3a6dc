/**
 * Server configuration, validated once and frozen (fastify's habit). Production mode reads a JSON
 * file; nothing secret has a default: the PIN comes from a file the operator provides. Dev mode
 * builds the same structure from a data dir, provisioning a SoftHSM2 token and a dev CA there.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { KeywardError } from './core/errors.js';

const listenRe = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/**
 * Performance levers (BENCHMARKS.md measures each). Defaults are the safe, measured choice; every
 * lever can be switched off. None of them changes the envelope format or what is audited.
 */
const DekCacheSchema = z
  .object({
    /** Reuse a data key for several encryptions (AWS Encryption SDK caching CMM). Off by default. */
    enabled: z.boolean().default(false),
    /** Per cached DEK: at most this many messages… */
    maxMessages: z.number().int().min(1).max(2 ** 32 - 1).default(1000),
    /** …this many plaintext bytes… */
    maxBytes: z.number().int().min(1).default(64 * 1024 * 1024),
    /** …and this many seconds. */
    maxAgeSeconds: z.number().min(0.001).max(3600).default(60),
    /** Cached DEKs (LRU by env/key/version/context). */
    maxEntries: z.number().int().min(1).max(100_000).default(1000),
    /** Keys (`env/name` or `name` for every environment) that never use a cached DEK. */
    excludeKeys: z.array(z.string().min(1)).default([]),
  })
  .strict();

export const PerformanceSchema = z
  .object({
    /** Cache verified tokens by jti until their expiry (revocation still checked against the store). */
    verifiedTokenCache: z.boolean().default(true),
    /** Key versions kept loaded in the HSM as session objects (LRU); 0 = unwrap on every use. */
    hsmKeyCacheSize: z.number().int().min(0).max(100_000).default(1024),
    /**
     * How the small request-path HSM operations (seal/open of DEKs, HMAC of small data, RNG refills)
     * call the PKCS#11 module. 'sync': on the event loop, no threadpool round trip (cheapest for an
     * in-process software token, but a call can neither be timed out nor stop blocking the loop);
     * 'async': on the libuv threadpool (for a network HSM that may wait milliseconds); 'auto': sync
     * only when the module is SoftHSM (C_GetInfo), async otherwise.
     */
    hsmCallMode: z.enum(['auto', 'sync', 'async']).default('auto'),
    /**
     * Transit key records cached for this long in the encrypt/decrypt path (0 = read the store every
     * time). Rotation/config changes in this process invalidate at once; other workers see them within
     * the TTL.
     */
    keyRecordCacheTtlMs: z.number().int().min(0).max(60_000).default(1000),
    dekCache: DekCacheSchema.default({ enabled: false, maxMessages: 1000, maxBytes: 64 * 1024 * 1024, maxAgeSeconds: 60, maxEntries: 1000, excludeKeys: [] }),
    /** Audit group-commit window in ms (0 = commit on the same tick). */
    auditGroupCommitMs: z.number().int().min(0).max(100).default(2),
    /** libuv threadpool size set by `keyward server` before any async work (0 = libuv default, 4). */
    uvThreadpoolSize: z.number().int().min(0).max(1024).default(0),
  })
  .strict();

export const DEFAULT_PERFORMANCE = PerformanceSchema.parse({});

export const ConfigSchema = z
  .object({
    listen: z.string().regex(listenRe, 'listen must be host:port').default('127.0.0.1:8200'),
    tls: z
      .object({ certFile: z.string().min(1), keyFile: z.string().min(1) })
      .nullable()
      .describe('null only with allowPlainHttp on a loopback address'),
    allowPlainHttp: z.boolean().default(false),
    storage: z.object({ path: z.string().min(1) }),
    hsm: z.object({
      module: z.string().min(1),
      tokenLabel: z.string().min(1).max(32),
      pinFile: z.string().min(1),
      /** SoftHSM2 only: the softhsm2.conf to use (sets SOFTHSM2_CONF for the library). */
      softhsmConf: z.string().min(1).optional(),
      sessionPoolSize: z.number().int().min(1).max(64).default(4),
    }),
    environments: z.array(z.string().regex(/^[a-z][a-z0-9-]{0,31}$/)).min(1).default(['dev', 'staging', 'prod']),
    defaultEnvironment: z.string().optional(),
    auth: z
      .object({
        issuer: z.string().min(1).default('keyward'),
        audience: z.string().min(1).default('keyward'),
        defaultTtlSeconds: z.number().int().positive().default(3600),
        maxTtlSeconds: z.number().int().positive().default(32 * 24 * 3600),
      })
      .default({ issuer: 'keyward', audience: 'keyward', defaultTtlSeconds: 3600, maxTtlSeconds: 32 * 24 * 3600 }),
    /** Environments where MFA for critical operations is not enforced by default. */
    mfaExemptEnvironments: z.array(z.string()).default([]),
    workers: z.number().int().min(1).max(16).default(1),
    performance: PerformanceSchema.default(() => PerformanceSchema.parse({})),
    log: z.object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') }).default({ level: 'info' }),
    dev: z
      .object({ dataDir: z.string(), rootTokenFile: z.string() })
      .optional(),
  })
  .strict();

export type KeywardConfig = Readonly<z.output<typeof ConfigSchema>>;

export function parseConfig(raw: unknown, baseDir: string): KeywardConfig {
  const result = ConfigSchema.safeParse(raw);
  if (!result.success) {
    const details = result.error.issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`).join('; ');
    throw new KeywardError('ERR_INVALID_INPUT', `invalid configuration: ${details}`);
  }
  const c = result.data;
  const abs = (p: string): string => (path.isAbsolute(p) ? p : path.resolve(baseDir, p));
  const resolved = {
    ...c,
    tls: c.tls ? { certFile: abs(c.tls.certFile), keyFile: abs(c.tls.keyFile) } : null,
    storage: { path: abs(c.storage.path) },
    hsm: { ...c.hsm, pinFile: abs(c.hsm.pinFile), ...(c.hsm.softhsmConf ? { softhsmConf: abs(c.hsm.softhsmConf) } : {}) },
    defaultEnvironment: c.defaultEnvironment ?? c.environments[0],
  };
  if (!resolved.environments.includes(resolved.defaultEnvironment as string)) {
    throw new KeywardError('ERR_INVALID_INPUT', 'invalid configuration: defaultEnvironment must be one of environments');
  }
  if (!resolved.tls && !resolved.allowPlainHttp) {
    throw new KeywardError('ERR_INVALID_INPUT', 'invalid configuration: tls is required (plain HTTP needs allowPlainHttp on a loopback address)');
  }
  return Object.freeze(resolved);
}

export function loadConfigFile(file: string): KeywardConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new KeywardError('ERR_INVALID_INPUT', `cannot read configuration file ${file}: ${(e as NodeJS.ErrnoException).code ?? 'invalid JSON'}`);
  }
  return parseConfig(raw, path.dirname(path.resolve(file)));
}

/** Reads a secret file (PIN), refusing group/world-readable files outside dev. */
export function readSecretFile(file: string, { strictMode }: { strictMode: boolean }): string {
  const st = fs.statSync(file);
  if (strictMode && (st.mode & 0o077) !== 0) {
    throw new KeywardError('ERR_INVALID_INPUT', `secret file ${file} must not be readable by group or others (chmod 600)`);
  }
  const value = fs.readFileSync(file, 'utf8').trim();
  if (value === '') throw new KeywardError('ERR_INVALID_INPUT', `secret file ${file} is empty`);
  return value;
}
