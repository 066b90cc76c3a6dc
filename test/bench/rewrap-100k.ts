/**
 * Throughput of `keyward rewrap` (client-held ciphertexts, streaming, batched transit/rewrap) for
 * 100,000 items against a real dev server (SoftHSM2, HTTPS) started in this process; the CLI runs as
 * a child process, as an operator would run it.
 *
 *   npx tsx test/bench/rewrap-100k.ts [items=100000] [batch=250] [concurrency=4]
 *
 * Prints one line per configuration: items, seconds, items/s, and the CLI's peak RSS.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HttpTransport } from '../../clients/sdk/http-client.js';
import { startDevServer } from '../helpers/dev-server.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const ITEMS = Number(process.argv[2] ?? 100_000);
const BATCH = Number(process.argv[3] ?? 250);
const CONCURRENCY = Number(process.argv[4] ?? 4);

async function main(): Promise<void> {
  const server = await startDevServer();
  const http = new HttpTransport({ address: server.url, caPem: server.caPem, timeoutMs: 300_000 });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyward-rewrap-bench-'));
  try {
    const call = async (p: string, body?: unknown): Promise<any> => {
      const r = await http.request({ method: 'POST', path: `/v1${p}`, token: server.rootToken, ...(body !== undefined ? { body } : {}) });
      if (r.status >= 300) throw new Error(`${p} → ${r.status}`);
      return r.body ? JSON.parse(r.body) : undefined;
    };
    await call('/transit/keys/bench');
    const input = path.join(dir, 'in.txt');
    const out = fs.createWriteStream(input);
    const t0 = Date.now();
    for (let start = 0; start < ITEMS; start += 5000) {
      const n = Math.min(5000, ITEMS - start);
      const r = await call('/transit/encrypt/bench', { batch_input: Array.from({ length: n }, (_, i) => ({ plaintext: Buffer.from(`item-${start + i}`).toString('base64') })) });
      out.write(`${(r.data.batch_results as Array<{ ciphertext: string }>).map((x) => x.ciphertext).join('\n')}\n`);
    }
    await new Promise<void>((res) => out.end(res));
    process.stdout.write(`prepared ${ITEMS} ciphertexts in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    await call('/transit/keys/bench/rotate');

    const outFile = path.join(dir, 'out.txt');
    const started = Date.now();
    const result = await new Promise<{ code: number | null; stderr: string; maxRssKb: number }>((resolve, reject) => {
      // /usr/bin/time is not everywhere: the CLI's own summary line goes to stderr; RSS from /proc while it runs.
      const child = spawn(process.execPath, ['--import', 'tsx', 'clients/cli/main.ts', 'rewrap', '--key', 'bench', '--in', input, '--out', outFile, '--batch', String(BATCH), '--concurrency', String(CONCURRENCY)], {
        cwd: ROOT,
        env: { ...process.env, VAULT_ADDR: server.url, VAULT_TOKEN: server.rootToken, VAULT_CACERT: server.caFile, VAULT_NAMESPACE: 'dev' },
        stdio: ['ignore', 'inherit', 'pipe'],
      });
      let stderr = '';
      let maxRssKb = 0;
      const timer = setInterval(() => {
        try {
          const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'));
          if (m) maxRssKb = Math.max(maxRssKb, Number(m[1]));
        } catch {
          // process gone
        }
      }, 100);
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('error', reject);
      child.on('close', (code) => {
        clearInterval(timer);
        resolve({ code, stderr, maxRssKb });
      });
    });
    const secs = (Date.now() - started) / 1000;
    const lines = fs.readFileSync(outFile, 'utf8').split('\n').filter((l) => l !== '');
    const ok = lines.length === ITEMS && lines.every((l) => l.startsWith('vault:v2:'));
    process.stdout.write(`${result.stderr.trim()}\n`);
    process.stdout.write(
      `rewrap-100k: items=${ITEMS} batch=${BATCH} concurrency=${CONCURRENCY} seconds=${secs.toFixed(1)} items_per_second=${Math.round(ITEMS / secs)} cli_peak_rss_mb=${(result.maxRssKb / 1024).toFixed(0)} exit=${result.code} output_ok=${ok}\n`,
    );
    if (!ok || result.code !== 0) process.exitCode = 1;
  } finally {
    http.close();
    await server.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exitCode = 1;
});
