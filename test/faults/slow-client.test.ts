/**
 * Slow/stuck clients against the real server with its production timeouts (server.ts:
 * headersTimeout 10 s, checked every 1 s; requestTimeout 30 s): a client that trickles its
 * request head is disconnected, and the server keeps answering others meanwhile.
 * (test/integration/http-server.test.ts covers the same with short custom timeouts on startServer.)
 */
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevServer, type DevServer } from '../helpers/dev-server.js';
import { rawCaller } from './support.js';

let server: DevServer;

beforeAll(async () => {
  server = await startDevServer();
});

afterAll(async () => {
  await server?.destroy();
});

describe('slow clients on the real server', () => {
  it('when a client sends its headers one byte per second, then the real server cuts it off within headersTimeout (10 s) and keeps serving others', async () => {
    const url = new URL(server.url);
    const socket = tls.connect({ host: url.hostname, port: Number(url.port), ca: server.caPem, servername: 'localhost' });
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', () => resolve());
      socket.once('error', reject);
    });
    const started = Date.now();
    const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - started)));
    socket.on('error', () => undefined);
    const head = 'GET /v1/sys/health HTTP/1.1\r\nHost: localhost\r\nX-Slow: ' + 'x'.repeat(100);
    let i = 0;
    const timer = setInterval(() => {
      if (!socket.destroyed && i < head.length) socket.write(head[i++] as string);
    }, 1000);
    // Others are served while the slow client hangs on.
    const api = rawCaller(server.url, server.caPem, server.rootToken);
    expect((await api.call('GET', '/v1/sys/health')).status).toBe(200);
    api.close();
    const elapsed = await closed;
    clearInterval(timer);
    expect(i).toBeLessThan(head.length); // it was cut off, it did not finish
    expect(elapsed).toBeGreaterThanOrEqual(9_000);
    expect(elapsed).toBeLessThan(16_000);
  }, 30_000);
});
