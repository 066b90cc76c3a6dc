/**
 * Shared helpers for the fault tests: a raw HTTP caller (no SDK retries, so a 503 is seen as a
 * 503) and small polling utilities. Seeds come from KEYWARD_FAULT_SEED when set, so a failing run
 * printed on failure can be replayed.
 */
import crypto from 'node:crypto';
import { HttpTransport } from '../../clients/sdk/index.js';
import type { RequestOptions } from '../../clients/sdk/http-client.js';

export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly json: unknown;
  readonly text: string;
}

export interface RawCaller {
  call(method: RequestOptions['method'], path: string, body?: unknown, headers?: Record<string, string>): Promise<Reply>;
  close(): void;
}

export function rawCaller(address: string, caPem: string, token: string): RawCaller {
  const transport = new HttpTransport({ address, caPem, timeoutMs: 30_000 });
  return {
    async call(method, path, body, headers) {
      const res = await transport.request({ method, path, token, ...(body !== undefined ? { body } : {}), ...(headers ? { headers } : {}) });
      let json: unknown = undefined;
      try {
        json = res.body === '' ? undefined : JSON.parse(res.body);
      } catch {
        json = undefined;
      }
      return { status: res.status, headers: res.headers, json, text: res.body };
    },
    close: () => transport.close(),
  };
}

export function pickSeed(): number {
  const fromEnv = process.env['KEYWARD_FAULT_SEED'];
  if (fromEnv !== undefined && /^\d+$/.test(fromEnv)) return Number(fromEnv) >>> 0;
  return crypto.randomBytes(4).readUInt32LE(0);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 15_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Run `tasks` with at most `limit` in flight. */
export async function pool<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i] as T, i);
    }
  });
  await Promise.all(workers);
}
