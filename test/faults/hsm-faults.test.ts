/**
 * The real server (dev-server harness, real SoftHSM2) with a seeded FaultyHsm between the PKCS#11
 * adapter and the circuit breaker: HSM faults become 503 + Retry-After with one fixed message,
 * never a 500 and never a partial write; a dead token opens the breaker (fail fast, no device
 * calls); a token that comes back is used again without a restart; a hung call times out.
 * The seed is printed on failure; replay with KEYWARD_FAULT_SEED=<seed>.
 */
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { FaultyHsm } from '../../hsm-sim/faulty-hsm.js';
import type { Hsm } from '../../vault/src/core/ports/hsm.js';
import { startDevServer, type DevServer } from '../helpers/dev-server.js';
import { pickSeed, pool, rawCaller, waitFor, type RawCaller, type Reply } from './support.js';
import { mulberry32 } from '../../hsm-sim/seeded-random.js';

const SEED = pickSeed();
const CALL_TIMEOUT_MS = 1_000;
const COOL_DOWN_MS = 1_500;
const THRESHOLD = 3;

let server: DevServer;
let faulty: FaultyHsm;
let api: RawCaller;

const report = (): void => {
  onTestFailed(() => console.error(`[hsm-faults] FaultyHsm seed=${SEED} (replay: KEYWARD_FAULT_SEED=${SEED})`));
};

beforeAll(async () => {
  server = await startDevServer({
    wrapHsm: (inner: Hsm) => (faulty = new FaultyHsm(inner, { seed: SEED })),
    breaker: { callTimeoutMs: CALL_TIMEOUT_MS, failureThreshold: THRESHOLD, coolDownMs: COOL_DOWN_MS },
  });
  api = rawCaller(server.url, server.caPem, server.rootToken);
});

afterAll(async () => {
  faulty?.up();
  faulty?.release();
  api?.close();
  await server?.destroy();
});

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const errorsOf = (r: Reply): unknown => (r.json as { errors?: unknown } | undefined)?.errors;

function expectHsmUnavailable(r: Reply): void {
  expect(r.status).toBe(503);
  expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  expect(errorsOf(r)).toEqual(['HSM unavailable, retry later']);
}

async function health(): Promise<{ status: number; body: { sealed: boolean; hsm: { available: boolean }; hsm_circuit: { state: string; consecutive_failures: number; opened_at: string | null } } }> {
  const r = await api.call('GET', '/v1/sys/health');
  return { status: r.status, body: r.json as never };
}

async function waitHealthy(): Promise<void> {
  await waitFor('HSM circuit to close', async () => (await health()).status === 200, 20_000, 200);
}

async function encrypt(key: string, plaintext: string): Promise<Reply> {
  return api.call('POST', `/v1/transit/encrypt/${key}`, { plaintext: b64(plaintext) });
}

describe('HSM faults against the real server', () => {
  it('when the HSM fails at random (seeded), then requests answer 200 or 503 + Retry-After, never 500, and nothing acknowledged is lost or half-written', async () => {
    report();
    const key = 'fault-key';
    expect((await api.call('POST', `/v1/transit/keys/${key}`, {})).status).toBeLessThan(300);
    const kvProbe = await api.call('POST', '/v1/secret/data/fault/probe', { data: { v: 'probe' } });
    const kvWired = kvProbe.status === 200;

    faulty.configure({ failureRate: { seal: 0.25, open: 0.25, generateWrappedKey: 0.3, randomBytes: 0.1, rewrapKey: 0.25 } });
    const rnd = mulberry32(SEED ^ 0x9e3779b9);
    const acked: Array<{ ciphertext: string; plaintext: string }> = [];
    const ackedSecrets: Array<{ path: string; version: number; value: string }> = [];
    const kvWrites = new Map<string, number>();
    let ackedRotations = 0;
    const statuses = new Map<number, number>();
    const ops = Array.from({ length: 160 }, (_, i) => ({ i, r: rnd() }));
    await pool(ops, 8, async ({ i, r }) => {
      let res: Reply;
      if (r < 0.5) {
        const plaintext = `message ${i}`;
        res = await encrypt(key, plaintext);
        if (res.status === 200) acked.push({ ciphertext: (res.json as { data: { ciphertext: string } }).data.ciphertext, plaintext });
      } else if (r < 0.65) {
        res = await api.call('POST', `/v1/transit/keys/${key}/rotate`, {});
        if (res.status === 200) ackedRotations++;
      } else if (r < 0.85 && kvWired) {
        const path = `fault/app-${i % 7}`;
        const value = `secret ${i}`;
        res = await api.call('POST', `/v1/secret/data/${path}`, { data: { value } });
        if (res.status === 200) {
          ackedSecrets.push({ path, version: (res.json as { data: { version: number } }).data.version, value });
          kvWrites.set(path, (kvWrites.get(path) ?? 0) + 1);
        }
      } else {
        const sample = acked[Math.floor(r * 997) % Math.max(1, acked.length)];
        if (!sample) return;
        res = await api.call('POST', `/v1/transit/decrypt/${key}`, { ciphertext: sample.ciphertext });
      }
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status !== 200) expectHsmUnavailable(res);
    });
    expect(faulty.faults).toBeGreaterThan(0);
    expect(statuses.get(503) ?? 0).toBeGreaterThan(0);
    expect(acked.length).toBeGreaterThan(0);

    // Faults stop: the breaker recovers on its own, and everything acknowledged is intact.
    faulty.configure({});
    await waitHealthy();
    for (const { ciphertext, plaintext } of acked) {
      const res = await api.call('POST', `/v1/transit/decrypt/${key}`, { ciphertext });
      expect(res.status).toBe(200);
      expect(Buffer.from((res.json as { data: { plaintext: string } }).data.plaintext, 'base64').toString()).toBe(plaintext);
    }
    const read = await api.call('GET', `/v1/transit/keys/${key}`);
    const data = (read.json as { data: { latest_version: number; keys: Record<string, unknown> } }).data;
    // A failed rotation adds no version; an acknowledged one adds exactly one.
    expect(data.latest_version).toBe(1 + ackedRotations);
    expect(Object.keys(data.keys).map(Number).sort((a, b) => a - b)).toEqual(Array.from({ length: data.latest_version }, (_, i) => i + 1));
    for (const s of ackedSecrets) {
      const res = await api.call('GET', `/v1/secret/data/${s.path}?version=${s.version}`);
      expect(res.status).toBe(200);
      expect((res.json as { data: { data: { value: string } } }).data.data.value).toBe(s.value);
    }
    for (const [path, writes] of kvWrites) {
      const meta = await api.call('GET', `/v1/secret/metadata/${path}`);
      // A failed write leaves no phantom version behind.
      expect((meta.json as { data: { current_version: number } }).data.current_version).toBe(writes);
    }
    console.info(`[hsm-faults] seed=${SEED} statuses=${JSON.stringify(Object.fromEntries(statuses))} faults=${faulty.faults} acked=${acked.length} rotations=${ackedRotations} kv=${kvWired ? ackedSecrets.length : 'not wired'}`);
  });

  it('when the token goes down, then the breaker opens, requests fail fast without reaching the device, health says 503, and it recovers without restart after up()', async () => {
    report();
    await waitHealthy();
    expect((await encrypt('down-key', 'before')).status).toBe(200);
    faulty.down('CKR_TOKEN_NOT_PRESENT');
    // Enough failures to trip the threshold.
    for (let i = 0; i < THRESHOLD; i++) expectHsmUnavailable(await encrypt('down-key', `during ${i}`));
    const open = await health();
    expect(open.status).toBe(503);
    expect(open.body.sealed).toBe(true);
    expect(open.body.hsm.available).toBe(false);
    expect(open.body.hsm_circuit.state).toBe('open');
    expect(open.body.hsm_circuit.opened_at).not.toBeNull();

    const attemptsWhenOpen = faulty.totalAttempts;
    for (let i = 0; i < 5; i++) {
      const res = await encrypt('down-key', `fast ${i}`);
      expectHsmUnavailable(res);
    }
    expect((await health()).body.hsm_circuit.state).toBe('open');
    // Fail fast: nothing reached the (dead) device while the circuit was open.
    expect(faulty.totalAttempts).toBe(attemptsWhenOpen);

    // Still down after the cool-down: the probe fails and the circuit re-opens.
    await new Promise((r) => setTimeout(r, COOL_DOWN_MS + 100));
    expectHsmUnavailable(await encrypt('down-key', 'probe fails'));
    expect(faulty.totalAttempts).toBe(attemptsWhenOpen + 1);
    expect((await health()).body.hsm_circuit.state).toBe('open');

    faulty.up();
    await waitHealthy();
    const h = await health();
    expect(h.body.hsm_circuit).toMatchObject({ state: 'closed', consecutive_failures: 0, opened_at: null });
    const after = await encrypt('down-key', 'after');
    expect(after.status).toBe(200);
  });

  it('when an HSM call hangs, then the request fails with 503 after the per-call timeout instead of hanging', async () => {
    report();
    await waitHealthy();
    expect((await encrypt('hang-key', 'warm')).status).toBe(200);
    faulty.hangNext(1);
    const started = Date.now();
    const res = await encrypt('hang-key', 'stuck');
    const elapsed = Date.now() - started;
    expectHsmUnavailable(res);
    expect(faulty.hanging).toBe(1);
    expect(elapsed).toBeGreaterThanOrEqual(CALL_TIMEOUT_MS - 50);
    faulty.release();
    // One timeout is below the threshold: the circuit stays closed and the next call works.
    expect((await health()).body.hsm_circuit.state).toBe('closed');
    expect((await encrypt('hang-key', 'next')).status).toBe(200);
  });
});
