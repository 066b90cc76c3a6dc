/**
 * `npm run bench`: end-to-end HTTP benchmark of a real Keyward dev server against a same-run baseline.
 *
 * Two child processes, so the server's CPU is measured apart from the load generator (autocannon, in
 * this process): `keyward server --dev` in a temp data dir, and a bare express 5 HTTPS endpoint with
 * the same certificate and the same JSON body parsing (32 MiB) that answers a fixed Vault-shaped JSON
 * — the baseline (this file, re-run with `--baseline-server`). Each case runs at each concurrency
 * after a warm-up, `--runs` times, alternating server and baseline; the table shows medians.
 *
 * Traffic uses a non-root token (policy `bench` + token from `auth/token/create`); logins use AppRole.
 * HSM calls per request: delta of `keyward_hsm_operations_total` (every worker, via X-Keyward-Worker)
 * over the requests of the case. No timed assertions: this prints figures, it does not judge them.
 *
 *   node dist/test/bench/run.js [--duration 5] [--runs 3] [--warmup 2] [--concurrency 1,32]
 *        [--workers 1,2] [--levers tokenCache=off,hsmKeyCache=off,keyRecordCache=off,dekCache=on,
 *        groupCommit=0,threadpool=8] [--cases encrypt,decrypt,...] [--json FILE] [--cpu-prof DIR]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import express from 'express';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO_DIST = path.resolve(HERE, '..', '..');
const CLI = path.join(REPO_DIST, 'clients', 'cli', 'main.js');
const KEY = 'bench';

// ---------------------------------------------------------------------------------------------------
// Baseline server (child mode)

const BASELINE_BODY = {
  request_id: '00000000-0000-0000-0000-000000000000',
  lease_id: '',
  renewable: false,
  lease_duration: 0,
  data: { ciphertext: `vault:v1:${Buffer.alloc(1024 + 89, 7).toString('base64')}`, key_version: 1 },
  wrap_info: null,
  warnings: null,
  auth: null,
};

async function baselineServer(dataDir: string, port: number): Promise<void> {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: 32 * 1024 * 1024, type: () => true, strict: true }));
  app.all('/{*rest}', (_req, res) => {
    res.status(200).json(BASELINE_BODY);
  });
  const server = https.createServer(
    {
      cert: fs.readFileSync(path.join(dataDir, 'tls', 'server.pem')),
      key: fs.readFileSync(path.join(dataDir, 'tls', 'server-key.pem')),
      minVersion: 'TLSv1.2',
      honorCipherOrder: true,
    },
    app,
  );
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  process.stdout.write(`baseline listening ${port}\n`);
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

// ---------------------------------------------------------------------------------------------------
// Options

interface Options {
  duration: number;
  runs: number;
  warmup: number;
  concurrency: number[];
  workers: number[];
  levers: Record<string, string>;
  cases: string[] | null;
  json: string | null;
  cpuProf: string | null;
}

function parseArgs(argv: string[]): Options {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const levers: Record<string, string> = {};
  for (const pair of (get('levers') ?? '').split(',').filter(Boolean)) {
    const [k, v] = pair.split('=');
    if (!k || v === undefined) throw new Error(`--levers expects name=value pairs, got ${pair}`);
    levers[k] = v;
  }
  return {
    duration: Number(get('duration') ?? 5),
    runs: Number(get('runs') ?? 3),
    warmup: Number(get('warmup') ?? 2),
    concurrency: (get('concurrency') ?? '1,32').split(',').map(Number),
    workers: (get('workers') ?? '1,2').split(',').map(Number),
    levers,
    cases: get('cases')?.split(',') ?? null,
    json: get('json') ?? null,
    cpuProf: get('cpu-prof') ?? null,
  };
}

/** `--levers` → config `performance` overrides (see vault/src/config.ts). */
function performanceOverrides(levers: Record<string, string>): Record<string, unknown> {
  const on = (v: string): boolean => v === 'on' || v === 'true' || v === '1';
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(levers)) {
    switch (k) {
      case 'tokenCache':
        out['verifiedTokenCache'] = on(v);
        break;
      case 'hsmKeyCache':
        out['hsmKeyCacheSize'] = on(v) ? 1024 : /^\d+$/.test(v) ? Number(v) : 0;
        break;
      case 'keyRecordCache':
        out['keyRecordCacheTtlMs'] = on(v) ? 1000 : /^\d+$/.test(v) ? Number(v) : 0;
        break;
      case 'dekCache':
        out['dekCache'] = { enabled: on(v) };
        break;
      case 'groupCommit':
        out['auditGroupCommitMs'] = Number(v);
        break;
      case 'threadpool':
        out['uvThreadpoolSize'] = Number(v);
        break;
      case 'hsmCalls':
        if (v !== 'sync' && v !== 'async' && v !== 'auto') throw new Error('hsmCalls must be sync, async or auto');
        out['hsmCallMode'] = v;
        break;
      default:
        throw new Error(`unknown lever ${k}`);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Processes

async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function startChild(args: string[], readyRe: RegExp, env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`child did not start: ${out.slice(-2000)}`)), timeoutMs);
    const onData = (d: Buffer): void => {
      out += d.toString();
      if (readyRe.test(out)) {
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`child exited (${code}): ${out.slice(-2000)}`));
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 20_000).unref();
  });
}

function childPids(pid: number): number[] {
  try {
    return fs
      .readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** CPU time (ms) of each thread of a process, by thread id, from /proc/<pid>/task/<tid>/stat. */
function threadCpuMs(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  let tids: string[] = [];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  const tick = 1000 / 100; // USER_HZ is 100 on Linux
  for (const tid of tids) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(tid), (Number(fields[11]) + Number(fields[12])) * tick);
    } catch {
      // the thread ended between readdir and read
    }
  }
  return out;
}

/** CPU of a process tree (server + cluster workers): total, and the main threads' share. */
interface CpuSnapshot {
  total: number;
  main: number;
  threads: Map<string, number>;
}

function cpuSnapshot(pid: number): CpuSnapshot {
  const snap: CpuSnapshot = { total: 0, main: 0, threads: new Map() };
  for (const p of [pid, ...childPids(pid)]) {
    for (const [tid, ms] of threadCpuMs(p)) {
      snap.total += ms;
      if (tid === p) snap.main += ms;
      else snap.threads.set(`${p}/${tid}`, ms);
    }
  }
  return snap;
}

/** Per-request CPU (µs) between two snapshots: total, main threads, and the busiest other threads. */
function cpuPerRequest(a: CpuSnapshot, b: CpuSnapshot, requests: number): { total: number; main: number; top: number[] } {
  const per = (ms: number): number => (requests ? (ms * 1000) / requests : 0);
  const others = [...b.threads].map(([k, ms]) => ms - (a.threads.get(k) ?? 0)).sort((x, y) => y - x);
  return { total: per(b.total - a.total), main: per(b.main - a.main), top: others.slice(0, 4).map(per) };
}

/** RSS of the server: the process itself, plus its workers when it is a cluster primary. */
function serverRss(pid: number): number {
  return [pid, ...childPids(pid)].reduce((sum, p) => sum + rssMiB(p), 0);
}

// ---------------------------------------------------------------------------------------------------
// HTTP helpers

interface Reply {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

function request(base: string, ca: string, method: string, p: string, token: string | null, body?: unknown): Promise<Reply> {
  const url = new URL(p, base);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      { method, ca, agent: false, headers: { ...(token ? { 'X-Vault-Token': token } : {}), ...(payload ? { 'Content-Type': 'application/json' } : {}) } },
      (res) => {
        let data = '';
        res.on('data', (c: Buffer) => (data += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data, headers: res.headers }));
      },
    );
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

async function must(reply: Promise<Reply>, what: string): Promise<Record<string, unknown>> {
  const r = await reply;
  if (r.status >= 300) throw new Error(`${what}: HTTP ${r.status} ${r.body.slice(0, 300)}`);
  return r.body ? (JSON.parse(r.body) as Record<string, unknown>) : {};
}

/** Sum of keyward_hsm_operations_total over every worker (scrapes until each worker answered). */
async function hsmOps(base: string, ca: string, token: string, workers: number): Promise<number> {
  const seen = new Map<string, number>();
  for (let i = 0; i < workers * 8 && seen.size < workers; i += 1) {
    const r = await request(base, ca, 'GET', '/v1/sys/metrics?format=prometheus', token);
    if (r.status !== 200) throw new Error(`metrics: HTTP ${r.status}`);
    let sum = 0;
    for (const line of r.body.split('\n')) {
      if (line.startsWith('keyward_hsm_operations_total{')) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    seen.set(String(r.headers['x-keyward-worker'] ?? '0'), sum);
  }
  return [...seen.values()].reduce((a, b) => a + b, 0);
}

// ---------------------------------------------------------------------------------------------------
// Cases

interface Case {
  readonly name: string;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly body?: string;
  /** Authenticated with the bench token (login is not). */
  readonly auth: boolean;
  readonly note?: string;
}

const POLICY = `
path "transit/encrypt/${KEY}" { capabilities = ["update"] }
path "transit/decrypt/${KEY}" { capabilities = ["update"] }
path "transit/datakey/plaintext/${KEY}" { capabilities = ["update"] }
path "secret/data/bench/*" { capabilities = ["read"] }
path "sys/metrics" { capabilities = ["read"] }
`;

interface Setup {
  token: string;
  cases: Case[];
  notes: string[];
}

async function prepare(base: string, ca: string, root: string): Promise<Setup> {
  const notes: string[] = [];
  await must(request(base, ca, 'POST', `/v1/transit/keys/${KEY}`, root, { type: 'aes256-gcm96' }), 'create key');
  let token = root;
  const pol = await request(base, ca, 'PUT', '/v1/sys/policies/acl/bench', root, { policy: POLICY });
  if (pol.status < 300) {
    const created = await must(request(base, ca, 'POST', '/v1/auth/token/create', root, { policies: ['bench'], ttl: '24h', no_default_policy: true }), 'token create');
    token = String((created['auth'] as Record<string, unknown>)['client_token']);
    notes.push('traffic token: non-root, policy "bench" (from auth/token/create)');
  } else {
    notes.push(`policies routes unavailable (HTTP ${pol.status}): traffic uses the ROOT token`);
  }

  const plaintext1k = Buffer.alloc(1024, 0x61).toString('base64');
  const enc = await must(request(base, ca, 'POST', `/v1/transit/encrypt/${KEY}`, token, { plaintext: plaintext1k }), 'encrypt (setup)');
  const ciphertext = String((enc['data'] as Record<string, unknown>)['ciphertext']);

  const cases: Case[] = [
    { name: 'encrypt 1KiB', method: 'POST', path: `/v1/transit/encrypt/${KEY}`, body: JSON.stringify({ plaintext: plaintext1k }), auth: true },
    { name: 'decrypt 1KiB', method: 'POST', path: `/v1/transit/decrypt/${KEY}`, body: JSON.stringify({ ciphertext }), auth: true },
    { name: 'datakey', method: 'POST', path: `/v1/transit/datakey/plaintext/${KEY}`, body: '{}', auth: true },
  ];
  const kv = await request(base, ca, 'POST', '/v1/secret/data/bench/app', root, { data: { user: 'bench', password: 'x'.repeat(32) } });
  if (kv.status < 300) cases.push({ name: 'kv read', method: 'GET', path: '/v1/secret/data/bench/app', auth: true });
  else notes.push(`KV routes unavailable (HTTP ${kv.status}): kv read skipped`);
  const batch = Array.from({ length: 100 }, () => ({ plaintext: plaintext1k }));
  cases.push({ name: 'encrypt batch 100x1KiB', method: 'POST', path: `/v1/transit/encrypt/${KEY}`, body: JSON.stringify({ batch_input: batch }), auth: true });

  const role = await request(base, ca, 'POST', '/v1/auth/approle/role/bench', root, { token_policies: ['bench'], secret_id_num_uses: 0, token_ttl: '1h' });
  if (role.status < 300) {
    const roleId = String(((await must(request(base, ca, 'GET', '/v1/auth/approle/role/bench/role-id', root), 'role-id'))['data'] as Record<string, unknown>)['role_id']);
    const secretId = String(((await must(request(base, ca, 'POST', '/v1/auth/approle/role/bench/secret-id', root, {}), 'secret-id'))['data'] as Record<string, unknown>)['secret_id']);
    cases.push({ name: 'login (approle)', method: 'POST', path: '/v1/auth/approle/login', body: JSON.stringify({ role_id: roleId, secret_id: secretId }), auth: false });
    notes.push('login case: AppRole auth/approle/login');
  } else {
    cases.push({ name: 'login (token/create)', method: 'POST', path: '/v1/auth/token/create', body: JSON.stringify({ policies: ['bench'], ttl: '1h' }), auth: false, note: 'root token' });
    notes.push(`AppRole unavailable (HTTP ${role.status}): login case is auth/token/create with the root token`);
  }
  return { token, cases, notes };
}

// ---------------------------------------------------------------------------------------------------
// Measuring

interface Sample {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
  errors: number;
}

async function cannon(url: string, c: Case, token: string | null, connections: number, duration: number): Promise<Sample> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers['x-vault-token'] = token;
  const result = await autocannon({
    url: url + c.path,
    method: c.method,
    headers,
    ...(c.body !== undefined ? { body: c.body } : {}),
    connections,
    pipelining: 1,
    duration,
  });
  const requests = result.requests.total;
  return {
    rps: requests / duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

interface Row {
  case: string;
  concurrency: number;
  workers: number;
  /** Keyward / baseline of each run pair (the runs alternate), to show the spread behind the median. */
  runRatios: number[];
  rps: number;
  p50: number;
  p99: number;
  baselineRps: number;
  baselineP50: number;
  baselineP99: number;
  ratio: number;
  hsmPerRequest: number;
  rssMiB: number;
  /** Server CPU per request (µs, all threads and workers), its main threads' part, the busiest others. */
  cpuUs: number;
  mainCpuUs: number;
  topThreadsCpuUs: number[];
  baselineCpuUs: number;
  /** The load generator's (this process's) CPU per request, Keyward runs. */
  generatorCpuUs: number;
  non2xx: number;
  errors: number;
  runs: Sample[];
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--baseline-server') return baselineServer(argv[1] as string, Number(argv[2]));
  const opts = parseArgs(argv);
  const perf = performanceOverrides(opts.levers);
  const log = (s: string): void => void process.stderr.write(`${s}\n`);
  const rows: Row[] = [];
  const notes = new Set<string>();
  const loadStart = os.loadavg();
  let baseline: { child: ChildProcess; url: string } | null = null;
  try {
    // One fresh server (and data dir) per worker count; one baseline for the whole run.
    for (const workers of opts.workers) {
      baseline = await benchWorkers(opts, workers, perf, baseline, rows, notes, log);
    }
  } finally {
    if (baseline) await stopChild(baseline.child);
  }
  printTable(rows, opts, [...notes], loadStart, os.loadavg());
  if (opts.json) {
    const result = {
      when: new Date().toISOString(),
      machine: machine(),
      options: { ...opts, performance: perf },
      loadavg: { start: loadStart, end: os.loadavg() },
      notes: [...notes],
      rows,
    };
    fs.writeFileSync(opts.json, `${JSON.stringify(result, null, 2)}\n`);
    log(`wrote ${opts.json}`);
  }
}

/** Every case at every concurrency against a Keyward server with `workers` workers; rows appended. */
async function benchWorkers(
  opts: Options,
  workers: number,
  perf: Record<string, unknown>,
  existingBaseline: { child: ChildProcess; url: string } | null,
  rows: Row[],
  notes: Set<string>,
  log: (s: string) => void,
): Promise<{ child: ChildProcess; url: string }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyward-bench-'));
  const port = await freePort();
  const serverArgs = [
    ...(opts.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(opts.cpuProf)] : []),
    CLI,
    'server',
    '--dev',
    '--data-dir',
    dataDir,
    '--listen',
    `127.0.0.1:${port}`,
    '--log-level',
    'warn',
    '--workers',
    String(workers),
    ...(Object.keys(perf).length ? ['--performance', JSON.stringify(perf)] : []),
  ];
  log(`bench: data dir ${dataDir}; levers ${JSON.stringify(perf)}; workers ${workers}; load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const server = await startChild(serverArgs, /Keyward dev server is running/, { ...process.env, KEYWARD_EXPOSE_WORKER_ID: '1' });
  let baseline = existingBaseline;
  try {
    if (!baseline) {
      // Same certificate and key as the Keyward server (read once at start).
      const basePort = await freePort();
      const child = await startChild([fileURLToPath(import.meta.url), '--baseline-server', dataDir, String(basePort)], /baseline listening/, process.env);
      baseline = { child, url: `https://127.0.0.1:${basePort}` };
    }
    const baseChild = baseline.child;
    const ca = fs.readFileSync(path.join(dataDir, 'tls', 'ca.pem'), 'utf8');
    const root = fs.readFileSync(path.join(dataDir, 'root.token'), 'utf8').trim();
    const url = `https://127.0.0.1:${port}`;
    const baseUrl = baseline.url;
    const setup = await prepare(url, ca, root);
    for (const n of setup.notes) {
      if (!notes.has(n)) log(`note: ${n}`);
      notes.add(n);
    }
    const cases = setup.cases.filter((c) => !opts.cases || opts.cases.some((f) => c.name.startsWith(f)));
    for (const c of cases) {
      for (const conc of opts.concurrency) {
        const token = c.auth ? setup.token : null;
        await cannon(url, c, token, conc, opts.warmup);
        await cannon(baseUrl, c, token, conc, opts.warmup);
        const ks: Sample[] = [];
        const bs: Sample[] = [];
        const hsm: number[] = [];
        const rss: number[] = [];
        const cpu: ReturnType<typeof cpuPerRequest>[] = [];
        const baseCpu: number[] = [];
        const genCpu: number[] = [];
        for (let r = 0; r < opts.runs; r += 1) {
          const before = await hsmOps(url, ca, root, workers);
          const cpu0 = cpuSnapshot(server.pid as number);
          const gen0 = process.cpuUsage();
          const k = await cannon(url, c, token, conc, opts.duration);
          const gen1 = process.cpuUsage(gen0);
          cpu.push(cpuPerRequest(cpu0, cpuSnapshot(server.pid as number), k.requests));
          genCpu.push(k.requests ? (gen1.user + gen1.system) / k.requests : 0);
          const after = await hsmOps(url, ca, root, workers);
          rss.push(serverRss(server.pid as number));
          hsm.push(k.requests ? (after - before) / k.requests : 0);
          ks.push(k);
          const b0 = cpuSnapshot(baseChild.pid as number);
          const b = await cannon(baseUrl, c, token, conc, opts.duration);
          baseCpu.push(cpuPerRequest(b0, cpuSnapshot(baseChild.pid as number), b.requests).total);
          bs.push(b);
        }
        const row: Row = {
          case: c.name,
          concurrency: conc,
          workers,
          rps: median(ks.map((s) => s.rps)),
          p50: median(ks.map((s) => s.p50)),
          p99: median(ks.map((s) => s.p99)),
          baselineRps: median(bs.map((s) => s.rps)),
          baselineP50: median(bs.map((s) => s.p50)),
          baselineP99: median(bs.map((s) => s.p99)),
          ratio: 0,
          runRatios: ks.map((k, i) => (bs[i]?.rps ? k.rps / (bs[i] as Sample).rps : 0)),
          hsmPerRequest: median(hsm),
          rssMiB: Math.max(...rss),
          cpuUs: median(cpu.map((x) => x.total)),
          mainCpuUs: median(cpu.map((x) => x.main)),
          topThreadsCpuUs: [0, 1, 2, 3].map((i) => median(cpu.map((x) => x.top[i] ?? 0))),
          baselineCpuUs: median(baseCpu),
          generatorCpuUs: median(genCpu),
          non2xx: ks.reduce((a, s) => a + s.non2xx, 0),
          errors: ks.reduce((a, s) => a + s.errors, 0),
          runs: ks,
        };
        row.ratio = row.baselineRps ? row.rps / row.baselineRps : 0;
        rows.push(row);
        log(`${c.name} c=${conc} workers=${workers}: ${row.rps.toFixed(0)} req/s (baseline ${row.baselineRps.toFixed(0)}, ratio ${row.ratio.toFixed(2)}; per run ${row.runRatios.map((x) => x.toFixed(2)).join(' ')})`);
        log(
          `  CPU µs/req: server ${row.cpuUs.toFixed(0)} (main ${row.mainCpuUs.toFixed(0)}, busiest other threads ${row.topThreadsCpuUs.map((x) => x.toFixed(0)).join('/')}), ` +
            `baseline ${row.baselineCpuUs.toFixed(0)}, load generator ${row.generatorCpuUs.toFixed(0)}`,
        );
      }
    }
    return baseline;
  } finally {
    await stopChild(server);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

function machine(): Record<string, unknown> {
  const cpus = os.cpus();
  return { cpus: cpus.length, model: cpus[0]?.model ?? 'unknown', memGiB: +(os.totalmem() / 2 ** 30).toFixed(1), node: process.version };
}

function printTable(rows: Row[], opts: Options, notes: string[], loadStart: number[], loadEnd: number[]): void {
  const out: string[] = [];
  const m = machine();
  out.push(`Keyward bench — ${m['cpus']} x ${m['model']}, ${m['memGiB']} GiB, Node ${m['node']}; workers ${opts.workers.join(' and ')}; ${opts.runs} runs x ${opts.duration}s, medians`);
  out.push(`load average: start ${loadStart.map((l) => l.toFixed(2)).join(' ')}, end ${loadEnd.map((l) => l.toFixed(2)).join(' ')}`);
  for (const n of notes) out.push(`note: ${n}`);
  const header = ['case', 'c', 'workers', 'req/s', 'p50 ms', 'p99 ms', 'base req/s', 'base p50', 'base p99', 'ratio', 'HSM/req', 'CPU µs/req', 'base CPU µs/req', 'RSS MiB', 'non2xx'];
  const lines = rows.map((r) => [
    r.case,
    String(r.concurrency),
    String(r.workers),
    r.rps.toFixed(0),
    r.p50.toFixed(2),
    r.p99.toFixed(2),
    r.baselineRps.toFixed(0),
    r.baselineP50.toFixed(2),
    r.baselineP99.toFixed(2),
    r.ratio.toFixed(2),
    r.hsmPerRequest.toFixed(2),
    r.cpuUs.toFixed(0),
    r.baselineCpuUs.toFixed(0),
    r.rssMiB.toFixed(0),
    String(r.non2xx + r.errors),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] as string).length)));
  const fmt = (cells: string[]): string => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join(' | ')} |`;
  out.push(fmt(header));
  out.push(`|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const l of lines) out.push(fmt(l));
  // Issue #7's target, reported (not asserted): 1 KiB encrypt and decrypt at c=32 ≥ 0.5 of the baseline.
  for (const r of rows.filter((x) => x.concurrency === 32 && /^(en|de)crypt 1KiB$/.test(x.case))) {
    out.push(`target ${r.case} c=32, ${r.workers} worker(s): ratio ${r.ratio.toFixed(2)} (runs ${r.runRatios.map((x) => x.toFixed(2)).join(', ')}) — ${r.ratio >= 0.5 ? 'meets' : 'below'} 0.50`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exitCode = 1;
});
