/**
 * The webhook audit device against a real server: audit lines arrive at a local receiver as NDJSON
 * in Vault's entry shape; a webhook marked fail_closed that cannot deliver fails requests (503)
 * until it is disabled.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpTransport } from '../../clients/sdk/http-client.js';
import { startDevServer, type DevServer } from '../helpers/dev-server.js';

let server: DevServer;
let api: HttpTransport;
let receiver: http.Server;
const received: string[] = [];

beforeAll(async () => {
  server = await startDevServer();
  api = new HttpTransport({ address: server.url, caPem: server.caPem });
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push(...body.split('\n').filter((l) => l !== ''));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  api?.close();
  await new Promise((resolve) => receiver?.close(resolve));
  await server?.destroy();
});

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

const call = (method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown) =>
  api.request({ method, path: `/v1/${path}`, token: server.rootToken, ...(body !== undefined ? { body } : {}) });

describe('webhook audit device', () => {
  it('when a webhook device is enabled, then each request and response entry is POSTed to it as a JSON line', async () => {
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/audit`;
    expect((await call('POST', 'sys/audit/hook', { type: 'webhook', options: { url } })).status).toBe(204);
    expect((await call('POST', 'transit/keys/hooked')).status).toBe(200);
    const deadline = Date.now() + 5000;
    while (!received.some((l) => l.includes('transit/keys/hooked') && l.includes('"type":"response"')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const entries = received.map((l) => JSON.parse(l) as { type: string; request: { path: string; id: string } });
    const forKey = entries.filter((e) => e.request.path === 'transit/keys/hooked');
    expect(forKey.map((e) => e.type).sort()).toEqual(['request', 'response']);
    expect(forKey[0]?.request.id).toBe(forKey[1]?.request.id);
  });

  it('when a webhook cannot be reached, then enabling it is refused with 400', async () => {
    const port = await closedPort();
    const res = await call('POST', 'sys/audit/unreachable', { type: 'webhook', options: { url: `http://127.0.0.1:${port}/` } });
    expect(res.status).toBe(400);
    expect(res.body).toContain('unreachable');
  });

  it('when a fail_closed webhook stops delivering, then requests fail with 503, and the device can still be disabled', async () => {
    let up = true;
    const flaky = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(up ? 204 : 500).end());
    });
    await new Promise<void>((resolve) => flaky.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(flaky.address() as AddressInfo).port}/`;
    try {
      expect((await call('POST', 'sys/audit/strict', { type: 'webhook', options: { url, fail_closed: 'true' } })).status).toBe(204);
      expect((await call('POST', 'transit/keys/strict-key')).status).toBe(200);
      up = false;
      expect((await call('POST', 'transit/keys/strict-key-2')).status).toBe(503);
      // Disabling a device stays possible while it fails (it is still recorded in the chain).
      const disabled = await call('DELETE', 'sys/audit/strict');
      expect(disabled.status).toBe(204);
      expect((await call('POST', 'transit/keys/strict-key-2')).status).toBe(200);
    } finally {
      await new Promise((resolve) => flaky.close(resolve));
    }
  });
});
