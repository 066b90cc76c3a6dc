import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import express from 'express';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KeywardError } from '../../vault/src/core/errors.js';
import { startServer, type RunningServer, type ServerOptions } from '../../vault/src/http/server.js';
import { ensureDevTls, type DevTls } from '../../vault/src/http/tls/dev-ca.js';

let tlsDir: string;
let dev: DevTls;
const running: RunningServer[] = [];

beforeAll(() => {
  tlsDir = mkdtempSync(join(tmpdir(), 'keyward-tls-'));
  dev = ensureDevTls(join(tlsDir, 'tls'));
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close(0)));
});
afterAll(() => rmSync(tlsDir, { recursive: true, force: true }));

async function serve(app: (req: IncomingMessage, res: ServerResponse) => void, options: Partial<ServerOptions> = {}): Promise<RunningServer> {
  const server = await startServer(app, { listen: '127.0.0.1:0', tls: dev, ...options });
  running.push(server);
  return server;
}

interface Echo {
  method: string;
  url: string;
  originalMethod: string | null;
  rawOriginalMethod: number;
  body: string;
  remoteAddress: string | null;
}

/** Answers every request with what it saw, after reading the whole body. */
function echo(req: IncomingMessage, res: ServerResponse): void {
  const parts: Buffer[] = [];
  req.on('data', (part: Buffer) => parts.push(part));
  req.on('end', () => {
    const seen: Echo = {
      method: req.method ?? '',
      url: req.url ?? '',
      originalMethod: (req.headers['x-keyward-original-method'] as string | undefined) ?? null,
      rawOriginalMethod: req.rawHeaders.filter((name) => name.toLowerCase() === 'x-keyward-original-method').length,
      body: Buffer.concat(parts).toString('utf8'),
      remoteAddress: req.socket.remoteAddress ?? null,
    };
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(seen));
  });
}

/** Sends raw bytes over TLS (or TCP) and collects everything until the server closes. */
function rawExchange(port: number, payload: string, options: { plain?: boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = options.plain
      ? net.connect({ host: '127.0.0.1', port })
      : tls.connect({ host: '127.0.0.1', port, ca: dev.caPem, servername: 'localhost' });
    socket.once(options.plain ? 'connect' : 'secureConnect', () => socket.write(payload));
    let received = '';
    socket.on('data', (part: Buffer) => (received += part.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(received));
  });
}

function echoes(responses: string): Echo[] {
  return [...responses.matchAll(/\r\n\r\n(\{[^\r]*?\})(?=HTTP\/1\.1|$)/g)].map((match) => JSON.parse(match[1] as string) as Echo);
}

function statuses(responses: string): number[] {
  return [...responses.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((match) => Number(match[1]));
}

function get(url: string, options: https.RequestOptions = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = (url.startsWith('https') ? https : http).request(url, { agent: false, ...options }, (res) => {
      let body = '';
      res.on('data', (part: Buffer) => (body += part.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    request.on('error', reject);
    request.end();
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('TLS with the dev CA', () => {
  it('when a client trusts only the dev CA, then an HTTPS request succeeds', async () => {
    const server = await serve(echo);
    const result = await get(`https://localhost:${server.address.port}/v1/sys/health`, { ca: dev.caPem });
    expect(result.status).toBe(200);
    expect((JSON.parse(result.body) as Echo).url).toBe('/v1/sys/health');
    expect(server.url).toBe(`https://127.0.0.1:${server.address.port}`);
  });

  it('when a client does not trust the dev CA, then certificate verification fails', async () => {
    const server = await serve(echo);
    const failure = await get(`https://localhost:${server.address.port}/`).then(
      () => null,
      (err: NodeJS.ErrnoException) => err.code,
    );
    expect(failure).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });

  it('when a client offers only TLS 1.1, then the handshake is refused', async () => {
    const server = await serve(echo);
    const failure = await get(`https://localhost:${server.address.port}/`, {
      ca: dev.caPem,
      minVersion: 'TLSv1',
      maxVersion: 'TLSv1.1',
    }).then(
      () => null,
      (err: NodeJS.ErrnoException) => err.code ?? 'error',
    );
    expect(failure).not.toBeNull();
  });
});

describe('the LIST method', () => {
  it('when a stock Node HTTPS server receives LIST, then the parser rejects it before any handler runs', async () => {
    let handled = 0;
    const stock = https.createServer({ cert: dev.certPem, key: dev.keyPem }, (_req, res) => {
      handled += 1;
      res.end();
    });
    await new Promise<void>((resolve) => stock.listen(0, '127.0.0.1', resolve));
    try {
      const port = (stock.address() as net.AddressInfo).port;
      const response = await rawExchange(port, 'LIST /v1/x HTTP/1.1\r\nHost: v\r\n\r\n');
      expect(statuses(response)).toEqual([400]);
      expect(handled).toBe(0);
    } finally {
      stock.close();
    }
  });

  it('when a raw TLS client sends LIST, then the handler sees GET with list=true and the original method', async () => {
    const server = await serve(echo);
    const response = await rawExchange(server.address.port, 'LIST /v1/x HTTP/1.1\r\nHost: v\r\nConnection: close\r\n\r\n');
    expect(statuses(response)).toEqual([200]);
    expect(echoes(response)).toEqual([
      { method: 'GET', url: '/v1/x?list=true', originalMethod: 'LIST', rawOriginalMethod: 1, body: '', remoteAddress: '127.0.0.1' },
    ]);
  });

  it('when LIST, a JSON POST and LIST are pipelined on one connection, then each is routed as sent', async () => {
    const server = await serve(echo);
    const json = JSON.stringify({ plaintext: 'TElTVCAvZXZpbCBIVFRQLzEuMQ==', note: 'LIST /v1/evil HTTP/1.1\r\n\r\n' });
    const payload =
      'LIST /v1/transit/keys HTTP/1.1\r\nHost: v\r\n\r\n' +
      `POST /v1/transit/encrypt/k HTTP/1.1\r\nHost: v\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}` +
      'LIST /v1/secret/metadata/app?a=1 HTTP/1.1\r\nHost: v\r\nConnection: close\r\n\r\n';
    const seen = echoes(await rawExchange(server.address.port, payload));
    expect(seen.map((e) => [e.method, e.url, e.originalMethod])).toEqual([
      ['GET', '/v1/transit/keys?list=true', 'LIST'],
      ['POST', '/v1/transit/encrypt/k', null],
      ['GET', '/v1/secret/metadata/app?a=1&list=true', 'LIST'],
    ]);
    expect(seen[1]?.body).toBe(json);
  });

  it('when LIST follows a keep-alive request after a pause, then it is still rewritten', async () => {
    const server = await serve(echo);
    const socket = tls.connect({ host: '127.0.0.1', port: server.address.port, ca: dev.caPem, servername: 'localhost' });
    let received = '';
    socket.on('data', (part: Buffer) => (received += part.toString('latin1')));
    await new Promise((resolve) => socket.once('secureConnect', resolve));
    socket.write('GET /v1/first HTTP/1.1\r\nHost: v\r\n\r\n');
    await sleep(100);
    socket.write('LIST /v1/second HTTP/1.1\r\nHost: v\r\nConnection: close\r\n\r\n');
    await new Promise((resolve) => socket.once('close', resolve));
    expect(echoes(received).map((e) => e.url)).toEqual(['/v1/first', '/v1/second?list=true']);
  });

  it('when a chunked POST is followed by LIST on the same connection, then both arrive intact', async () => {
    const server = await serve(echo);
    const payload =
      'POST /v1/upload HTTP/1.1\r\nHost: v\r\nTransfer-Encoding: chunked\r\n\r\n' +
      '5\r\nhello\r\n1b;ext=1\r\n LIST /v1/evil HTTP/1.1\r\n\r\n\r\n0\r\n\r\n' +
      'LIST /v1/after HTTP/1.1\r\nHost: v\r\nConnection: close\r\n\r\n';
    const seen = echoes(await rawExchange(server.address.port, payload));
    expect(seen.map((e) => [e.method, e.url, e.body])).toEqual([
      ['POST', '/v1/upload', 'hello LIST /v1/evil HTTP/1.1\r\n\r\n'],
      ['GET', '/v1/after?list=true', ''],
    ]);
  });

  it('when a client sends X-Keyward-Original-Method itself, then the handler never sees its value', async () => {
    const server = await serve(echo);
    const payload =
      'GET /v1/keys HTTP/1.1\r\nHost: v\r\nX-Keyward-Original-Method: LIST\r\n\r\n' +
      'LIST /v1/keys HTTP/1.1\r\nHost: v\r\nx-keyward-original-method: DELETE\r\nConnection: close\r\n\r\n';
    const seen = echoes(await rawExchange(server.address.port, payload));
    expect(seen.map((e) => [e.method, e.originalMethod, e.rawOriginalMethod])).toEqual([
      ['GET', null, 0],
      ['GET', 'LIST', 1],
    ]);
  });

  it('when the rewriter has given up on a connection, then a client-sent X-Keyward-Original-Method is still dropped', async () => {
    const server = await serve(echo);
    // An Upgrade request makes the rewriter stop for the connection; Node serves it as a plain GET.
    const payload =
      'GET /v1/a HTTP/1.1\r\nHost: v\r\nUpgrade: websocket\r\n\r\n' +
      'GET /v1/b HTTP/1.1\r\nHost: v\r\nX-Keyward-Original-Method: LIST\r\nConnection: close\r\n\r\n';
    const seen = echoes(await rawExchange(server.address.port, payload));
    expect(seen.map((e) => [e.url, e.originalMethod, e.rawOriginalMethod])).toEqual([
      ['/v1/a', null, 0],
      ['/v1/b', null, 0],
    ]);
  });
});

describe('the rewriter on the real socket', () => {
  /** Writes `payload` one byte per TLS record (or TCP write), waiting between bytes. */
  async function byteByByte(port: number, payload: string, options: { plain?: boolean } = {}): Promise<string> {
    const socket = options.plain
      ? net.connect({ host: '127.0.0.1', port })
      : tls.connect({ host: '127.0.0.1', port, ca: dev.caPem, servername: 'localhost' });
    socket.setNoDelay(true);
    let received = '';
    socket.on('data', (part: Buffer) => (received += part.toString('latin1')));
    const closed = new Promise((resolve) => socket.once('close', resolve));
    await new Promise((resolve) => socket.once(options.plain ? 'connect' : 'secureConnect', resolve));
    for (const char of payload) {
      socket.write(char);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await closed;
    return received;
  }

  const pipelined =
    'GET /v1/first HTTP/1.1\r\nHost: v\r\nContent-Length: 4\r\n\r\nLIST' +
    'LIST /v1/second?list=false HTTP/1.1\r\nHost: v\r\nX-Keyward-Original-Method: DELETE\r\nConnection: close\r\n\r\n';
  const expected = [
    ['GET', '/v1/first', null, 'LIST'],
    ['GET', '/v1/second?list=true', 'LIST', ''],
  ];

  it('when GET and LIST arrive byte by byte across TLS records, then each is routed as sent', async () => {
    const server = await serve(echo);
    const seen = echoes(await byteByByte(server.address.port, pipelined));
    expect(seen.map((e) => [e.method, e.url, e.originalMethod, e.body])).toEqual(expected);
  });

  it('when GET and LIST are pipelined in one write over plain HTTP, then each is routed as sent', async () => {
    const server = await serve(echo, { tls: null, allowPlainHttp: true });
    const seen = echoes(await rawExchange(server.address.port, pipelined, { plain: true }));
    expect(seen.map((e) => [e.method, e.url, e.originalMethod, e.body])).toEqual(expected);
    const trickled = echoes(await byteByByte(server.address.port, pipelined, { plain: true }));
    expect(trickled.map((e) => [e.method, e.url, e.originalMethod, e.body])).toEqual(expected);
  });

  it('when a handler does not read a large body yet, then the server stops reading the socket and the body still arrives intact', async () => {
    const size = 8 * 1024 * 1024;
    let readWhilePaused = -1;
    const server = await serve((req, res) => {
      setTimeout(() => {
        readWhilePaused = req.socket.bytesRead;
        let length = 0;
        const hash = createHash('sha256');
        req.on('data', (part: Buffer) => {
          length += part.length;
          hash.update(part);
        });
        req.on('end', () => res.end(JSON.stringify({ length, sha256: hash.digest('hex') })));
      }, 300);
    });
    const body = Buffer.alloc(size);
    for (let i = 0; i < size; i++) body[i] = (i * 31) & 0xff;
    const response = await new Promise<string>((resolve, reject) => {
      const request = https.request(
        { host: '127.0.0.1', port: server.address.port, method: 'POST', path: '/v1/upload', ca: dev.caPem, servername: 'localhost', agent: false },
        (res) => {
          let text = '';
          res.on('data', (part: Buffer) => (text += part.toString('utf8')));
          res.on('end', () => resolve(text));
        },
      );
      request.on('error', reject);
      request.end(body);
    });
    expect(JSON.parse(response)).toEqual({ length: size, sha256: createHash('sha256').update(body).digest('hex') });
    expect(readWhilePaused).toBeGreaterThan(0);
    expect(readWhilePaused).toBeLessThan(size / 4);
  });
});

describe('plain HTTP', () => {
  it('when plain HTTP is asked for on a non-loopback host, then the server refuses to start', async () => {
    for (const listen of ['0.0.0.0:0', '10.1.2.3:0', '[::]:0']) {
      const failure = await startServer(echo, { listen, tls: null, allowPlainHttp: true }).then(
        () => null,
        (err: unknown) => err,
      );
      expect(failure).toBeInstanceOf(KeywardError);
      expect((failure as KeywardError).code).toBe('ERR_INVALID_INPUT');
    }
  });

  it('when no TLS material is given and plain HTTP is not allowed, then the server refuses to start', async () => {
    await expect(startServer(echo, { listen: '127.0.0.1:0' })).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' });
  });

  it('when plain HTTP is allowed on 127.0.0.1, then it serves HTTP, including LIST', async () => {
    const server = await serve(echo, { tls: null, allowPlainHttp: true });
    expect(server.url).toBe(`http://127.0.0.1:${server.address.port}`);
    const result = await get(`${server.url}/v1/sys/health`);
    expect(result.status).toBe(200);
    const seen = echoes(await rawExchange(server.address.port, 'LIST /v1/k HTTP/1.1\r\nHost: v\r\nConnection: close\r\n\r\n', { plain: true }));
    expect(seen.map((e) => [e.method, e.url, e.originalMethod])).toEqual([['GET', '/v1/k?list=true', 'LIST']]);
  });
});

describe('slow clients', () => {
  /** Trickles `text` one byte per `intervalMs`; resolves with how long until the server hung up. */
  async function trickle(port: number, prefix: string, text: string, intervalMs: number): Promise<{ closedAfterMs: number; received: string }> {
    const socket = tls.connect({ host: '127.0.0.1', port, ca: dev.caPem, servername: 'localhost' });
    let received = '';
    let closed = false;
    socket.on('data', (part: Buffer) => (received += part.toString('latin1')));
    socket.on('error', () => undefined);
    const closedAt = new Promise<number>((resolve) =>
      socket.once('close', () => {
        closed = true;
        resolve(Date.now());
      }),
    );
    await new Promise((resolve) => socket.once('secureConnect', resolve));
    if (prefix !== '') {
      socket.write(prefix);
      await sleep(200);
    }
    const start = Date.now();
    for (const char of text) {
      if (closed) break;
      socket.write(char);
      await sleep(intervalMs);
    }
    if (!closed) socket.destroy();
    return { closedAfterMs: (await closedAt) - start, received };
  }

  it('when a client sends its headers one byte per second, then it is disconnected after headersTimeout', async () => {
    let handled = 0;
    const server = await serve(
      (req, res) => {
        handled += 1;
        echo(req, res);
      },
      { headersTimeoutMs: 1000, requestTimeoutMs: 5000 },
    );
    const { closedAfterMs } = await trickle(server.address.port, '', 'GET /v1/sys/health HTTP/1.1\r\nHost: v\r\n\r\n', 1000);
    expect(closedAfterMs).toBeGreaterThanOrEqual(500);
    expect(closedAfterMs).toBeLessThan(3500);
    expect(handled).toBe(0);
  });

  it('when the second request on a keep-alive connection trickles in, then it is disconnected after headersTimeout too', async () => {
    const server = await serve(echo, { headersTimeoutMs: 1000, requestTimeoutMs: 5000, keepAliveTimeoutMs: 5000 });
    const { closedAfterMs, received } = await trickle(
      server.address.port,
      'GET /v1/first HTTP/1.1\r\nHost: v\r\n\r\n',
      'GET /v1/second HTTP/1.1\r\nHost: v\r\n\r\n',
      300,
    );
    expect(echoes(received).map((e) => e.url)).toEqual(['/v1/first']);
    expect(closedAfterMs).toBeGreaterThanOrEqual(800);
    expect(closedAfterMs).toBeLessThan(3000);
  });

  it('when a connection sits idle after a response, then it is closed after keepAliveTimeout', async () => {
    const server = await serve(echo, { keepAliveTimeoutMs: 300 });
    const start = Date.now();
    const response = await rawExchange(server.address.port, 'GET /v1/x HTTP/1.1\r\nHost: v\r\n\r\n');
    expect(statuses(response)).toEqual([200]);
    expect(Date.now() - start).toBeLessThan(2500);
  });

  it('when a client never finishes the TLS handshake, then it is disconnected after headersTimeout', async () => {
    const server = await serve(echo, { headersTimeoutMs: 500, requestTimeoutMs: 5000 });
    const socket = net.connect({ host: '127.0.0.1', port: server.address.port });
    const start = Date.now();
    socket.on('error', () => undefined);
    await new Promise((resolve) => socket.once('close', resolve));
    expect(Date.now() - start).toBeLessThan(2500);
  });
});

describe('graceful close', () => {
  it('when the server closes during a slow request, then the request completes and new connections are refused', async () => {
    let reached!: () => void;
    const inHandler = new Promise<void>((resolve) => (reached = resolve));
    const server = await startServer(
      (req, res) => {
        reached();
        setTimeout(() => echo(req, res), 500);
      },
      { listen: '127.0.0.1:0', tls: dev },
    );
    const slow = get(`https://localhost:${server.address.port}/v1/slow`, { ca: dev.caPem });
    await inHandler;
    const closing = server.close(5000);
    const refused = await get(`https://localhost:${server.address.port}/v1/new`, { ca: dev.caPem }).then(
      () => null,
      (err: NodeJS.ErrnoException) => err.code,
    );
    expect(refused).toBe('ECONNREFUSED');
    const result = await slow;
    expect(result.status).toBe(200);
    expect((JSON.parse(result.body) as Echo).url).toBe('/v1/slow');
    const start = Date.now();
    await closing;
    expect(Date.now() - start).toBeLessThan(1000);
  });

  it('when a request outlives the grace period, then close drops it and resolves', async () => {
    const server = await startServer(() => undefined, { listen: '127.0.0.1:0', tls: dev });
    const stuck = get(`https://localhost:${server.address.port}/v1/stuck`, { ca: dev.caPem }).then(
      () => 'answered',
      () => 'dropped',
    );
    await sleep(200);
    const start = Date.now();
    await server.close(300);
    expect(Date.now() - start).toBeGreaterThanOrEqual(250);
    expect(Date.now() - start).toBeLessThan(2000);
    expect(await stuck).toBe('dropped');
  });

  it('when idle keep-alive connections are open, then close does not wait for them', async () => {
    const server = await startServer(echo, { listen: '127.0.0.1:0', tls: dev, keepAliveTimeoutMs: 30_000 });
    const agent = new https.Agent({ keepAlive: true, ca: dev.caPem });
    expect((await get(`https://localhost:${server.address.port}/v1/a`, { agent })).status).toBe(200);
    const start = Date.now();
    await server.close(10_000);
    expect(Date.now() - start).toBeLessThan(1000);
    agent.destroy();
  });
});

describe('what handlers see of the client', () => {
  it('when an express app handles a request, then req.ip and req.socket.remoteAddress are the client and req.secure holds', async () => {
    const app = express();
    app.get('/v1/whoami', (req, res) => {
      res.json({ ip: req.ip, remote: req.socket.remoteAddress, secure: req.secure, protocol: req.protocol, list: req.query['list'] ?? null });
    });
    const server = await serve(app);
    const result = await get(`https://localhost:${server.address.port}/v1/whoami`, { ca: dev.caPem });
    expect(JSON.parse(result.body)).toEqual({ ip: '127.0.0.1', remote: '127.0.0.1', secure: true, protocol: 'https', list: null });
    const listed = echoesOf(await rawExchange(server.address.port, 'LIST /v1/whoami HTTP/1.1\r\nHost: v\r\nConnection: close\r\n\r\n'));
    expect(listed).toEqual([{ ip: '127.0.0.1', remote: '127.0.0.1', secure: true, protocol: 'https', list: 'true' }]);
  });
});

function echoesOf(responses: string): unknown[] {
  return [...responses.matchAll(/\r\n\r\n(\{[^\r]*?\})/g)].map((match) => JSON.parse(match[1] as string) as unknown);
}

describe('ensureDevTls', () => {
  it('when called on an empty directory, then it writes a CA and a server cert with private keys at 0600', () => {
    const dir = join(tlsDir, 'fresh');
    const made = ensureDevTls(dir);
    expect(made.caPath).toBe(join(dir, 'ca.pem'));
    for (const key of ['ca-key.pem', 'server-key.pem']) expect(statSync(join(dir, key)).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'ca.pem'), 'utf8')).toBe(made.caPem);
    expect(readFileSync(join(dir, 'server.pem'), 'utf8')).toBe(made.certPem);
    expect(readFileSync(join(dir, 'server-key.pem'), 'utf8')).toBe(made.keyPem);

    const ca = new X509Certificate(made.caPem);
    const server = new X509Certificate(made.certPem);
    expect(ca.ca).toBe(true);
    expect(server.ca).toBe(false);
    expect(server.checkIssued(ca)).toBe(true);
    expect(server.verify(ca.publicKey)).toBe(true);
    expect(server.subjectAltName?.split(', ')).toEqual(['DNS:localhost', 'IP Address:127.0.0.1', 'IP Address:0:0:0:0:0:0:0:1']);
    expect(server.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']); // serverAuth EKU
    const days = (cert: X509Certificate): number => (Date.parse(cert.validTo) - Date.now()) / 86_400_000;
    expect(days(server)).toBeGreaterThan(364);
    expect(days(server)).toBeLessThan(366);
    expect(days(ca)).toBeGreaterThan(5 * 365 - 1);
  });

  it('when called again on the same directory, then it reuses the existing files', () => {
    const dir = join(tlsDir, 'again');
    const first = ensureDevTls(dir);
    const mtime = statSync(join(dir, 'server.pem')).mtimeMs;
    const second = ensureDevTls(dir);
    expect(second).toEqual(first);
    expect(statSync(join(dir, 'server.pem')).mtimeMs).toBe(mtime);
  });

  it('when an extra hostname is asked for, then only the server cert is re-issued, covering it', () => {
    const dir = join(tlsDir, 'extra');
    const first = ensureDevTls(dir);
    const second = ensureDevTls(dir, { extraHostnames: ['vault.internal', '10.0.0.7'] });
    expect(second.caPem).toBe(first.caPem);
    expect(second.certPem).not.toBe(first.certPem);
    expect(new X509Certificate(second.certPem).subjectAltName).toContain('DNS:vault.internal');
    expect(new X509Certificate(second.certPem).subjectAltName).toContain('IP Address:10.0.0.7');
    expect(ensureDevTls(dir, { extraHostnames: ['vault.internal', '10.0.0.7'] }).certPem).toBe(second.certPem);
  });

  it('when the server cert expires within 30 days, then it is re-issued under the same CA', () => {
    const dir = join(tlsDir, 'expiring');
    const first = ensureDevTls(dir);
    const later = new Date(Date.now() + 340 * 86_400_000);
    const renewed = ensureDevTls(dir, { now: () => later });
    expect(renewed.caPem).toBe(first.caPem);
    expect(renewed.certPem).not.toBe(first.certPem);
  });

  it('when a hostname is not a valid DNS name or IP, then it is refused', () => {
    expect(() => ensureDevTls(join(tlsDir, 'bad'), { extraHostnames: ['bad host/'] })).toThrow(KeywardError);
  });
});
