/** The streaming client rewrap (`keyward rewrap`): order, pass-through, per-item errors, bounded in-flight batches. */
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { rewrapStream, type RewrapCall } from '../../../clients/cli/commands/rewrap.js';

async function run(input: string, o: { format: 'lines' | 'jsonl'; batch: number; concurrency: number; call: RewrapCall }) {
  const out = new PassThrough();
  const chunks: string[] = [];
  out.on('data', (c: Buffer) => chunks.push(c.toString()));
  const errors: Array<[number, string]> = [];
  const r = await rewrapStream(Readable.from([input]), out, { ...o, field: 'ct', onError: (l, m) => errors.push([l, m]) });
  return { r, text: chunks.join(''), errors };
}

/** A fake server: `vault:v1:X` → `vault:v2:X`; anything else is a per-item error. Random latency scrambles completion order. */
function fakeCall(stats: { inFlight: number; max: number; calls: number }): RewrapCall {
  return async (cts) => {
    stats.calls++;
    stats.inFlight++;
    stats.max = Math.max(stats.max, stats.inFlight);
    await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 5)));
    stats.inFlight--;
    return cts.map((c) => (c.startsWith('vault:v1:') ? { ciphertext: c.replace('vault:v1:', 'vault:v2:') } : { error: 'decryption failed' }));
  };
}

describe('rewrapStream', () => {
  it('keeps line order across out-of-order batches, passes blank lines through, and reports failures with line numbers', async () => {
    const lines = Array.from({ length: 203 }, (_, i) => (i === 50 ? '' : i === 77 ? 'garbage' : `vault:v1:item${i}`));
    const stats = { inFlight: 0, max: 0, calls: 0 };
    const { r, text, errors } = await run(lines.join('\n') + '\n', { format: 'lines', batch: 10, concurrency: 3, call: fakeCall(stats) });
    const out = text.split('\n').slice(0, -1);
    expect(out).toHaveLength(203);
    expect(out[0]).toBe('vault:v2:item0');
    expect(out[202]).toBe('vault:v2:item202');
    expect(out[50]).toBe('');
    expect(out[77]).toBe('garbage');
    expect(errors).toEqual([[78, 'decryption failed']]);
    expect(r).toMatchObject({ lines: 203, items: 202, failed: 1, rewrapped: 201 });
    expect(stats.max).toBeLessThanOrEqual(3);
    expect(stats.calls).toBe(21);
  });

  it('replaces only the named JSON field and keeps the other fields and their order', async () => {
    const input = ['{"id":1,"ct":"vault:v1:a","note":"x"}', '{"id":2}', 'not json', '{"ct":"vault:v1:b","id":3}'].join('\n');
    const { r, text, errors } = await run(input, { format: 'jsonl', batch: 2, concurrency: 2, call: fakeCall({ inFlight: 0, max: 0, calls: 0 }) });
    expect(text.split('\n').slice(0, -1)).toEqual(['{"id":1,"ct":"vault:v2:a","note":"x"}', '{"id":2}', 'not json', '{"ct":"vault:v2:b","id":3}']);
    expect(errors.map((e) => e[0])).toEqual([2, 3]);
    expect(r.failed).toBe(2);
  });

  it('fails as a whole when a batch call fails (not an item error)', async () => {
    const call: RewrapCall = async () => {
      throw new Error('HTTP 403');
    };
    await expect(run('vault:v1:a\n', { format: 'lines', batch: 1, concurrency: 2, call })).rejects.toThrow('HTTP 403');
  });
});
