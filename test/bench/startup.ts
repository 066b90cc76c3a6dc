/**
 * Startup figures for services (issue: secrets at startup). In one run, against one dev server:
 *   1. a child process started directly, time from spawn to its first output line (the baseline);
 *   2. the same child started through `keyward run` with 50 secrets, same measure;
 *   3. the SDK's `loadSecrets` for 50 paths, from a fresh client (login excluded: token auth).
 * Prints medians over `--runs` (default 9) and the ratios. Run: `npm run build && node dist/test/bench/startup.js`.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from '../../clients/sdk/index.js';
import { startChildServer } from '../soak/child-server.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', ...(import.meta.url.includes('/dist/') ? ['..'] : []));
const SECRETS = 50;
const CHILD = ['-e', 'process.stdout.write("ready\\n")'];

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? Number(process.argv[i + 1]) : fallback;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

/** Milliseconds from spawn to the first line on the child's stdout (and a clean exit). */
function timeToFirstLine(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let firstLineAt = 0;
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      if (!firstLineAt && c.toString().includes('\n')) firstLineAt = performance.now();
    });
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0 || !firstLineAt) return reject(new Error(`child failed (${code}): ${err.slice(0, 300)}`));
      resolve(firstLineAt - started);
    });
  });
}

async function main(): Promise<void> {
  const runs = arg('runs', 9);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyward-startup-'));
  const server = await startChildServer({ dataDir, env: { KEYWARD_LIFECYCLE_TICK_SECONDS: '0' }, args: ['--log-level', 'warn'] });
  try {
    const caFile = path.join(dataDir, 'tls', 'ca.pem');
    const admin = createClient({ address: server.url, caPem: server.caPem, auth: { token: server.rootToken } });
    const paths = Array.from({ length: SECRETS }, (_, i) => `startup/s${String(i + 1).padStart(2, '0')}`);
    for (const p of paths) await admin.secrets.write(p, { value: `v-${p}` });
    admin.close();

    const cli = fs.existsSync(path.join(ROOT, 'dist', 'clients', 'cli', 'main.js'))
      ? [path.join(ROOT, 'dist', 'clients', 'cli', 'main.js')]
      : ['--import', 'tsx', path.join(ROOT, 'clients', 'cli', 'main.ts')];
    const env = { PATH: process.env['PATH'] ?? '', VAULT_ADDR: server.url, VAULT_CACERT: caFile, VAULT_TOKEN: server.rootToken, KEYWARD_TOKEN_FILE: path.join(dataDir, 'none') };
    const runArgs = [...cli, 'run', ...paths.flatMap((p) => ['--secret', `secret/${p}`]), '--', process.execPath, ...CHILD];

    const direct: number[] = [];
    const viaRun: number[] = [];
    const load: number[] = [];
    // Warm-up (page cache, TLS session setup on the server), then interleave the three measures.
    await timeToFirstLine(process.execPath, CHILD, env);
    await timeToFirstLine(process.execPath, runArgs, env);
    for (let i = 0; i < runs; i++) {
      direct.push(await timeToFirstLine(process.execPath, CHILD, env));
      viaRun.push(await timeToFirstLine(process.execPath, runArgs, env));
      const client = createClient({ address: server.url, caPem: server.caPem, auth: { token: server.rootToken } });
      const t0 = performance.now();
      const loaded = await client.loadSecrets(paths);
      load.push(performance.now() - t0);
      client.close();
      if (Object.keys(loaded).length !== SECRETS) throw new Error('loadSecrets returned the wrong number of paths');
    }
    const fmt = (ms: number): string => `${ms.toFixed(0)} ms`;
    const md = median(direct);
    console.log(`machine: ${os.cpus().length} cores ${os.cpus()[0]?.model ?? ''}, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}, node ${process.version}, ${runs} runs`);
    console.log('| measure | median | ratio to the child alone |');
    console.log('|---|---:|---:|');
    console.log(`| child started directly, to first line | ${fmt(md)} | 1.00 |`);
    console.log(`| \`keyward run\` with ${SECRETS} secrets, to the child's first line | ${fmt(median(viaRun))} | ${(median(viaRun) / md).toFixed(2)} |`);
    console.log(`| SDK \`loadSecrets\` for ${SECRETS} paths (fresh client, token auth) | ${fmt(median(load))} | ${(median(load) / md).toFixed(2)} |`);
  } finally {
    await server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
