/**
 * `keyward rewrap --key NAME [--in FILE|-] [--out FILE|-] [--format lines|jsonl --field ciphertext]
 * [--batch 250] [--concurrency 4]`: re-encrypt ciphertexts that services hold under the key's latest
 * version through batched `transit/rewrap` calls, without the plaintext ever leaving the server.
 *
 * Invariants:
 * - Streaming: at most `concurrency` batches are in memory at once; input is read only as output is
 *   written (readline + drain back-pressure), so memory stays constant whatever the file size.
 * - Order is preserved: batches are written in the order they were read, whatever order they finish.
 * - Every line comes out: a rewrapped item replaces its ciphertext only (JSON lines keep every other
 *   field and their order); an item that failed comes out unchanged and is reported on stderr with its
 *   line number; blank lines pass through. The exit code is 1 if any item failed.
 * - Ciphertexts are never printed to stderr.
 */
import fs from 'node:fs';
import { once } from 'node:events';
import readline from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Command } from 'commander';
import { KeywardApiError, type HttpTransport } from '../../sdk/http-client.js';
import { cliContext } from '../context.js';

export type RewrapCall = (ciphertexts: readonly string[]) => Promise<Array<{ ciphertext?: string; error?: string }>>;

export interface RewrapStreamOptions {
  readonly format: 'lines' | 'jsonl';
  readonly field: string;
  readonly batch: number;
  readonly concurrency: number;
  readonly call: RewrapCall;
  /** Per-item error report (line numbers from 1). */
  readonly onError?: (line: number, message: string) => void;
}

export interface RewrapStreamResult {
  readonly lines: number;
  readonly items: number;
  readonly rewrapped: number;
  readonly failed: number;
}

interface Entry {
  readonly line: number;
  readonly raw: string;
  /** Parsed JSON object (jsonl) when the item is in the batch. */
  readonly obj?: Record<string, unknown>;
  /** Index in the batch's ciphertext list; undefined when the line passes through as is. */
  readonly slot?: number;
  readonly error?: string;
}

function prepare(raw: string, line: number, o: RewrapStreamOptions, cts: string[]): Entry {
  if (raw.trim() === '') return { line, raw };
  if (o.format === 'lines') {
    const ct = raw.trim();
    cts.push(ct);
    return { line, raw, slot: cts.length - 1 };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return { line, raw, error: 'not a JSON line' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { line, raw, error: 'not a JSON object' };
  const obj = parsed as Record<string, unknown>;
  const ct = obj[o.field];
  if (typeof ct !== 'string') return { line, raw, error: `field ${o.field} is missing or not a string` };
  cts.push(ct);
  return { line, raw, obj, slot: cts.length - 1 };
}

export async function rewrapStream(input: Readable, output: Writable, o: RewrapStreamOptions): Promise<RewrapStreamResult> {
  const rl = readline.createInterface({ input, crlfDelay: Infinity });
  let lineNo = 0;
  let items = 0;
  let failed = 0;
  let entries: Entry[] = [];
  let cts: string[] = [];
  const queue: Array<Promise<string>> = [];

  const write = async (s: string): Promise<void> => {
    if (!output.write(s)) await once(output, 'drain');
  };

  const dispatch = (batchEntries: Entry[], batchCts: string[]): Promise<string> =>
    (batchCts.length > 0 ? o.call(batchCts) : Promise.resolve([])).then((results) => {
      let out = '';
      for (const e of batchEntries) {
        let text = e.raw;
        let error = e.error;
        if (e.slot !== undefined) {
          const r = results[e.slot];
          if (r?.ciphertext !== undefined) {
            if (e.obj) {
              e.obj[o.field] = r.ciphertext;
              text = JSON.stringify(e.obj);
            } else {
              text = r.ciphertext;
            }
          } else {
            error = r?.error ?? 'no result';
          }
        }
        if (error !== undefined) {
          failed++;
          o.onError?.(e.line, error);
        }
        out += `${text}\n`;
      }
      return out;
    });

  const flushBatch = async (): Promise<void> => {
    if (entries.length === 0) return;
    const p = dispatch(entries, cts);
    p.catch(() => undefined); // handled when awaited in order; this only keeps an early rejection from being "unhandled"
    queue.push(p);
    entries = [];
    cts = [];
    // Keep at most `concurrency` batches in flight; write finished ones in order.
    while (queue.length >= o.concurrency) await write(await (queue.shift() as Promise<string>));
  };

  for await (const raw of rl) {
    lineNo++;
    const e = prepare(raw, lineNo, o, cts);
    if (e.slot !== undefined || e.error !== undefined) items++;
    entries.push(e);
    if (cts.length >= o.batch) await flushBatch();
  }
  await flushBatch();
  while (queue.length > 0) await write(await (queue.shift() as Promise<string>));
  return { lines: lineNo, items, rewrapped: items - failed, failed };
}

/** One batched transit/rewrap call; retries 429/503 with back-off, per-item errors come back as items. */
export function transitRewrapCall(transport: HttpTransport, key: string, token: string | undefined): RewrapCall {
  return async (ciphertexts) => {
    for (let attempt = 0; ; attempt++) {
      const res = await transport.request({
        method: 'POST',
        path: `/v1/transit/rewrap/${encodeURIComponent(key)}`,
        body: { batch_input: ciphertexts.map((ciphertext) => ({ ciphertext })) },
        ...(token ? { token } : {}),
        timeoutMs: 120_000,
      });
      let body: { data?: { batch_results?: Array<{ ciphertext?: string; error?: string }> }; errors?: string[] } = {};
      try {
        body = res.body ? (JSON.parse(res.body) as typeof body) : {};
      } catch {
        body = {};
      }
      const results = body.data?.batch_results;
      if (Array.isArray(results) && results.length === ciphertexts.length) return results;
      if ((res.status === 429 || res.status === 503) && attempt < 5) {
        await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
        continue;
      }
      throw new KeywardApiError({ kind: 'http', status: res.status, errors: body.errors ?? [], ...(res.requestId ? { requestId: res.requestId } : {}) });
    }
  };
}

export function register(program: Command): void {
  program
    .command('rewrap')
    .description('re-encrypt client-held ciphertexts under the latest key version (streaming, batched transit/rewrap)')
    .requiredOption('--key <name>', 'transit key')
    .option('--in <file>', 'input file, or - for stdin', '-')
    .option('--out <file>', 'output file, or - for stdout', '-')
    .option('--format <format>', 'lines (one ciphertext per line) or jsonl (a JSON field per line)', 'lines')
    .option('--field <name>', 'with --format jsonl: the field holding the ciphertext', 'ciphertext')
    .option('--batch <n>', 'ciphertexts per transit/rewrap call', '250')
    .option('--concurrency <n>', 'calls in flight', '4')
    .action(async (o: { key: string; in: string; out: string; format: string; field: string; batch: string; concurrency: string }, cmd: Command) => {
      if (o.format !== 'lines' && o.format !== 'jsonl') throw new Error('--format must be lines or jsonl');
      const batch = Number(o.batch);
      const concurrency = Number(o.concurrency);
      if (!Number.isSafeInteger(batch) || batch < 1 || batch > 10_000) throw new Error('--batch must be 1..10000');
      if (!Number.isSafeInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new Error('--concurrency must be 1..64');
      const ctx = cliContext(cmd);
      const input = o.in === '-' ? process.stdin : fs.createReadStream(o.in);
      const output = o.out === '-' ? process.stdout : fs.createWriteStream(o.out);
      const started = Date.now();
      try {
        const r = await rewrapStream(input, output, {
          format: o.format,
          field: o.field,
          batch,
          concurrency,
          call: transitRewrapCall(ctx.transport, o.key, ctx.token),
          onError: (line, message) => process.stderr.write(`line ${line}: ${message}\n`),
        });
        if (output !== process.stdout) await new Promise<void>((res, rej) => (output as fs.WriteStream).end((e?: Error | null) => (e ? rej(e) : res())));
        const secs = (Date.now() - started) / 1000;
        process.stderr.write(`rewrapped ${r.rewrapped}/${r.items} items in ${secs.toFixed(1)} s (${Math.round(r.rewrapped / Math.max(secs, 0.001))}/s); ${r.failed} failed\n`);
        if (r.failed > 0) process.exitCode = 1;
      } finally {
        ctx.transport.close();
      }
    });
}
