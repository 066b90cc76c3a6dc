/**
 * Soak: `npm run soak -- --minutes N` (default 10). Starts a dev server as a child process in a
 * temp dir, drives mixed traffic through the SDK at bounded concurrency (transit encrypt / decrypt /
 * datakey / rewrap, named-key rotations every few seconds, token create + revoke-self, KV writes and
 * reads when those routes are served), samples the server's RSS (VmRSS) every 10 s, and verifies
 * at the end: zero failed decryptions, no lost secrets, the audit chain verifies. Reports RSS growth
 * (median of the first vs the last third of samples). Exits non-zero on any failure.
 * `runSoak({ seconds })` is the same run for CI (test/faults/soak-short.test.ts).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createClient, HttpTransport, KeywardApiError } from '../../clients/sdk/index.js';
import { startChildServer } from './child-server.js';

export interface SoakOptions {
  readonly seconds?: number;
  readonly minutes?: number;
  readonly concurrency?: number;
  readonly sampleEveryMs?: number;
  readonly rotateEveryMs?: number;
  readonly log?: (line: string) => void;
}

export interface SoakResult {
  readonly ok: boolean;
  readonly failures: string[];
  readonly durationSeconds: number;
  readonly ops: Record<string, number>;
  readonly opErrors: Record<string, number>;
  readonly failedDecryptions: number;
  readonly lostSecrets: number;
  readonly secretsChecked: number;
  readonly ciphertextsChecked: number;
  readonly rotations: number;
  readonly auditOk: boolean;
  readonly auditEntries: number;
  readonly rssSamplesMiB: number[];
  readonly rssFirstThirdMedianMiB: number;
  readonly rssLastThirdMedianMiB: number;
  readonly rssGrowthPercent: number;
  readonly skipped: string[];
}

const median = (xs: number[]): number => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

function rssMiB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return m ? Math.round((Number(m[1]) / 1024) * 10) / 10 : 0;
}

const KEY = 'soak-key';
const RESERVOIR = 2000;

export async function runSoak(options: SoakOptions = {}): Promise<SoakResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const durationMs = Math.round((options.seconds ?? (options.minutes ?? 10) * 60) * 1000);
  const concurrency = options.concurrency ?? 8;
  const sampleEveryMs = options.sampleEveryMs ?? 10_000;
  const rotateEveryMs = options.rotateEveryMs ?? 3_000;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyward-soak-'));
  const failures: string[] = [];
  const skipped: string[] = [];
  const ops: Record<string, number> = {};
  const opErrors: Record<string, number> = {};
  const count = (m: Record<string, number>, k: string): void => {
    m[k] = (m[k] ?? 0) + 1;
  };
  let failedDecryptions = 0;
  let rotations = 0;
  const rss: number[] = [];

  const server = await startChildServer({ dataDir });
  const raw = new HttpTransport({ address: server.url, caPem: server.caPem, timeoutMs: 30_000 });
  const client = createClient({ address: server.url, caPem: server.caPem, auth: { token: server.rootToken } });
  const rawCall = async (method: 'GET' | 'POST', p: string, body?: unknown, token = server.rootToken): Promise<{ status: number; json: unknown }> => {
    const res = await raw.request({ method, path: p, token, ...(body !== undefined ? { body } : {}) });
    let json: unknown;
    try {
      json = res.body ? JSON.parse(res.body) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, json };
  };
  try {
    log(`[soak] server pid ${server.pid} at ${server.url}, ${durationMs / 1000}s, concurrency ${concurrency}`);
    await client.transit.encrypt(KEY, 'warm-up');
    const kvProbe = await rawCall('POST', '/v1/secret/data/soak/probe', { data: { v: 'probe' } });
    const kv = kvProbe.status === 200;
    if (!kv) skipped.push(`KV v2 (probe answered ${kvProbe.status})`);
    const tokenProbe = await rawCall('POST', '/v1/auth/token/create', { ttl: '5m', policies: ['default'] });
    const tokensServed = tokenProbe.status === 200;
    if (!tokensServed) skipped.push(`token create/revoke-self (probe answered ${tokenProbe.status})`);

    const started = Date.now();
    const deadline = started + durationMs;
    const reservoir: Array<{ ciphertext: string; plaintext: string }> = [];
    let seen = 0;
    const remember = (ciphertext: string, plaintext: string): void => {
      seen++;
      if (reservoir.length < RESERVOIR) reservoir.push({ ciphertext, plaintext });
      else {
        const j = Math.floor(Math.random() * seen);
        if (j < RESERVOIR) reservoir[j] = { ciphertext, plaintext };
      }
    };
    /** Latest acknowledged value per KV path; each path is owned by one worker, so writes are ordered. */
    const latestSecret = new Map<string, string>();

    const sample = (): void => {
      try {
        const v = rssMiB(server.pid);
        rss.push(v);
        const elapsed = Math.round((Date.now() - started) / 1000);
        const total = Object.values(ops).reduce((a, b) => a + b, 0);
        log(`[soak] t=${elapsed}s rss=${v} MiB ops=${total} errors=${Object.values(opErrors).reduce((a, b) => a + b, 0)}`);
      } catch (e) {
        failures.push(`server process gone while sampling RSS (${e instanceof Error ? e.message : 'error'})`);
      }
    };
    sample();
    const sampler = setInterval(sample, sampleEveryMs);
    const rotator = setInterval(() => {
      void rawCall('POST', `/v1/transit/keys/${KEY}/rotate`, {}).then(
        (r) => (r.status === 200 ? (rotations++, count(ops, 'rotate')) : count(opErrors, `rotate ${r.status}`)),
        () => count(opErrors, 'rotate network'),
      );
    }, rotateEveryMs);

    const worker = async (w: number): Promise<void> => {
      let i = 0;
      while (Date.now() < deadline) {
        i++;
        const r = Math.random();
        const op = r < 0.3 ? 'encrypt' : r < 0.5 ? 'decrypt' : r < 0.6 ? 'datakey' : r < 0.7 ? 'rewrap' : r < 0.78 ? 'token' : r < 0.89 ? 'kv-write' : 'kv-read';
        try {
          switch (op) {
            case 'encrypt': {
              const plaintext = `w${w} #${i} ${crypto.randomBytes(8).toString('hex')}`;
              const { ciphertext } = await client.transit.encrypt(KEY, plaintext);
              remember(ciphertext, plaintext);
              break;
            }
            case 'decrypt': {
              const s = reservoir[Math.floor(Math.random() * reservoir.length)];
              if (!s) continue;
              try {
                const back = await client.transit.decrypt(KEY, s.ciphertext);
                if (back.toString() !== s.plaintext) failedDecryptions++;
              } catch (e) {
                if (e instanceof KeywardApiError && e.status === 400) failedDecryptions++;
                else throw e;
              }
              break;
            }
            case 'datakey': {
              const dk = await client.transit.datakey(KEY, { type: 'plaintext' });
              const back = await client.transit.decrypt(KEY, dk.ciphertext);
              if (!dk.plaintext || !back.equals(dk.plaintext)) failedDecryptions++;
              dk.plaintext?.fill(0);
              back.fill(0);
              break;
            }
            case 'rewrap': {
              const s = reservoir[Math.floor(Math.random() * reservoir.length)];
              if (!s) continue;
              const { ciphertext } = await client.transit.rewrap(KEY, s.ciphertext);
              const back = await client.transit.decrypt(KEY, ciphertext);
              if (back.toString() !== s.plaintext) failedDecryptions++;
              break;
            }
            case 'token': {
              if (!tokensServed) continue;
              const created = await rawCall('POST', '/v1/auth/token/create', { ttl: '5m', policies: ['default'] });
              const token = (created.json as { auth?: { client_token?: string } } | undefined)?.auth?.client_token;
              if (created.status !== 200 || !token) throw new Error(`token create ${created.status}`);
              const revoked = await rawCall('POST', '/v1/auth/token/revoke-self', {}, token);
              if (revoked.status >= 300) throw new Error(`revoke-self ${revoked.status}`);
              break;
            }
            case 'kv-write': {
              if (!kv) continue;
              const p = `soak/w${w}/p${i % 50}`;
              const value = `${i}-${crypto.randomBytes(6).toString('hex')}`;
              await client.secrets.write(p, { value });
              latestSecret.set(p, value);
              break;
            }
            case 'kv-read': {
              if (!kv) continue;
              const paths = [...latestSecret.keys()].filter((p) => p.startsWith(`soak/w${w}/`));
              const p = paths[Math.floor(Math.random() * paths.length)];
              if (!p) continue;
              const got = await client.secrets.read(p);
              if ((got.data as { value?: unknown }).value !== latestSecret.get(p)) failures.push(`KV ${p} read back a different value`);
              break;
            }
          }
          count(ops, op);
        } catch (e) {
          count(opErrors, `${op} ${e instanceof KeywardApiError ? (e.status ?? e.kind) : 'error'}`);
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
    clearInterval(rotator);
    clearInterval(sampler);
    sample();
    const seconds = (Date.now() - started) / 1000;

    // Final checks: everything still decrypts, every secret reads back, the audit chain verifies.
    let ciphertextsChecked = 0;
    for (const s of reservoir) {
      ciphertextsChecked++;
      try {
        if ((await client.transit.decrypt(KEY, s.ciphertext)).toString() !== s.plaintext) failedDecryptions++;
      } catch {
        failedDecryptions++;
      }
    }
    let lostSecrets = 0;
    for (const [p, value] of latestSecret) {
      try {
        if ((await client.secrets.read(p)).data['value'] !== value) lostSecrets++;
      } catch {
        lostSecrets++;
      }
    }
    const audit = await rawCall('GET', '/v1/sys/audit-log/verify');
    const verify = (audit.json as { data?: { ok?: boolean; entries?: number; message?: string } } | undefined)?.data;
    const auditOk = audit.status === 200 && verify?.ok === true;

    const third = Math.max(1, Math.floor(rss.length / 3));
    const first = Math.round(median(rss.slice(0, third)) * 10) / 10;
    const last = Math.round(median(rss.slice(-third)) * 10) / 10;
    const growth = first > 0 ? Math.round(((last - first) / first) * 1000) / 10 : 0;
    if (failedDecryptions > 0) failures.push(`${failedDecryptions} failed decryptions`);
    if (lostSecrets > 0) failures.push(`${lostSecrets} lost secrets`);
    if (!auditOk) failures.push(`audit chain does not verify (${audit.status}: ${verify?.message ?? 'no result'})`);
    const errorCount = Object.values(opErrors).reduce((a, b) => a + b, 0);
    if (errorCount > 0) failures.push(`${errorCount} failed operations: ${JSON.stringify(opErrors)}`);
    const totalOps = Object.values(ops).reduce((a, b) => a + b, 0);
    log(`[soak] done in ${seconds.toFixed(1)}s: ${totalOps} ops (${(totalOps / seconds).toFixed(0)}/s) ${JSON.stringify(ops)}; rotations=${rotations}`);
    log(`[soak] checked ${ciphertextsChecked} ciphertexts, ${latestSecret.size} secrets; audit ok=${auditOk} entries=${verify?.entries ?? '?'}`);
    log(`[soak] RSS MiB samples=${JSON.stringify(rss)} first-third median=${first} last-third median=${last} growth=${growth}%`);
    if (skipped.length) log(`[soak] skipped: ${skipped.join('; ')}`);
    log(failures.length === 0 ? '[soak] OK' : `[soak] FAILED: ${failures.join('; ')}`);
    return {
      ok: failures.length === 0,
      failures,
      durationSeconds: seconds,
      ops,
      opErrors,
      failedDecryptions,
      lostSecrets,
      secretsChecked: latestSecret.size,
      ciphertextsChecked,
      rotations,
      auditOk,
      auditEntries: verify?.entries ?? 0,
      rssSamplesMiB: rss,
      rssFirstThirdMedianMiB: first,
      rssLastThirdMedianMiB: last,
      rssGrowthPercent: growth,
      skipped,
    };
  } finally {
    client.close();
    raw.close();
    await server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

function parseArgs(argv: readonly string[]): SoakOptions {
  const out: { minutes?: number; seconds?: number; concurrency?: number } = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = Number(argv[i + 1]);
    if (a === '--minutes' && Number.isFinite(v) && v > 0) (out.minutes = v), i++;
    else if (a === '--seconds' && Number.isFinite(v) && v > 0) (out.seconds = v), i++;
    else if (a === '--concurrency' && Number.isInteger(v) && v > 0) (out.concurrency = v), i++;
    else throw new Error(`usage: npm run soak -- [--minutes N | --seconds N] [--concurrency N] (bad argument ${a ?? ''})`);
  }
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  runSoak(parseArgs(process.argv.slice(2))).then(
    (r) => process.exit(r.ok ? 0 : 1),
    (e: unknown) => {
      console.error('[soak] crashed:', e);
      process.exit(2);
    },
  );
}
