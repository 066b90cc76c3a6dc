import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { interposeListMethodRewriter, listMethodTapOf, readThroughJs } from '../../../vault/src/http/list-method-interposer.js';
import { ListMethodRewriter } from '../../../vault/src/http/list-method-rewriter.js';

const OPTIONS = { headTimeoutMs: 150, maxHeadBytes: 20_000 };
const STREAM = 'LIST /v1/a HTTP/1.1\r\nHost: v\r\n\r\nGET /v1/b HTTP/1.1\r\nHost: v\r\nContent-Length: 5\r\n\r\nhelloLIST /';

/** What the rewriter alone makes of the whole stream. */
function rewritten(text: string): string {
  const rewriter = new ListMethodRewriter({ maxHeadBytes: OPTIONS.maxHeadBytes });
  return Buffer.concat([...rewriter.write(Buffer.from(text, 'latin1')), ...rewriter.end()]).toString('latin1');
}

function drain(socket: net.Socket): string {
  const out = socket.read() as Buffer | null;
  return out === null ? '' : out.toString('latin1');
}

const open: Array<{ close(): void }> = [];
afterEach(() => {
  for (const thing of open.splice(0)) thing.close();
});

describe('interposeListMethodRewriter', () => {
  it('rewrites what is pushed byte by byte exactly as the rewriter does for the whole stream', () => {
    const socket = new net.Socket();
    const tap = interposeListMethodRewriter(socket, OPTIONS);
    expect(listMethodTapOf(socket)).toBe(tap);
    expect(tap.fed).toBe(false);
    for (const char of STREAM) socket.push(Buffer.from(char, 'latin1'));
    expect(tap.fed).toBe(true);
    // The trailing `LIST /` is a partial head: held back until more arrives or the stream ends.
    const before = drain(socket);
    expect(before).toBe(rewritten(STREAM).slice(0, -'LIST /'.length));
    socket.push(null);
    expect(before + drain(socket)).toBe(rewritten(STREAM));
    socket.destroy();
  });

  it('takes bytes already buffered before the interposition out and rewrites them too', () => {
    const socket = new net.Socket();
    socket.push(Buffer.from('LIST /v1/a HTTP/1.1\r\nHo', 'latin1'));
    const tap = interposeListMethodRewriter(socket, OPTIONS);
    expect(tap.fed).toBe(true);
    socket.push(Buffer.from('st: v\r\n\r\n', 'latin1'));
    expect(drain(socket)).toBe('GET /v1/a?list=true HTTP/1.1\r\nHost: v\r\nX-Keyward-Original-Method: LIST\r\n\r\n');
    socket.destroy();
  });

  it('reports back-pressure: false once the buffer is full, true while a head is only held back', () => {
    const socket = new net.Socket();
    interposeListMethodRewriter(socket, OPTIONS);
    const head = `POST /v1/x HTTP/1.1\r\nContent-Length: 40000\r\n\r\n`;
    expect(socket.push(Buffer.from(head, 'latin1'))).toBe(true);
    expect(socket.push(Buffer.alloc(40_000))).toBe(false);
    drain(socket);
    expect(socket.push(Buffer.from('LIST /v1/y HTTP/1.1\r\n', 'latin1'))).toBe(true);
    expect(socket.readableLength).toBe(0);
    socket.destroy();
  });

  it('destroys the socket when a held head does not complete within headTimeoutMs, and not when it does', async () => {
    const stuck = new net.Socket();
    const done = new net.Socket();
    interposeListMethodRewriter(stuck, OPTIONS);
    interposeListMethodRewriter(done, OPTIONS);
    stuck.push(Buffer.from('LIST /v1/a HTTP/1.1\r\n', 'latin1'));
    done.push(Buffer.from('LIST /v1/a HTTP/1.1\r\n', 'latin1'));
    done.push(Buffer.from('Host: v\r\n\r\n', 'latin1'));
    const keepAlive = setTimeout(() => undefined, 1000);
    await new Promise((resolve) => setTimeout(resolve, OPTIONS.headTimeoutMs + 100));
    clearTimeout(keepAlive);
    expect(stuck.destroyed).toBe(true);
    expect(done.destroyed).toBe(false);
    done.destroy();
  });
});

describe('readThroughJs', () => {
  /** A real TCP connection handed to an http.Server the way server.ts does, optionally without readThroughJs. */
  async function exchange(withReadThroughJs: boolean): Promise<{ fed: boolean; methods: string[] }> {
    const methods: string[] = [];
    const httpServer = http.createServer((req, res) => {
      methods.push(`${req.method ?? ''} ${req.url ?? ''}`);
      res.end();
    });
    let fed = false;
    const listener = net.createServer((socket) => {
      const tap = interposeListMethodRewriter(socket, OPTIONS);
      httpServer.emit('connection', socket);
      if (withReadThroughJs) readThroughJs(socket);
      socket.once('close', () => (fed = tap.fed));
    });
    open.push(listener);
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const client = net.connect((listener.address() as net.AddressInfo).port, '127.0.0.1');
    await new Promise((resolve) => client.once('connect', resolve));
    client.end('GET /v1/a HTTP/1.1\r\nHost: v\r\n\r\nLIST /v1/b HTTP/1.1\r\nHost: v\r\nConnection: close\r\n\r\n');
    client.resume();
    await new Promise((resolve) => client.once('close', resolve));
    await new Promise((resolve) => setTimeout(resolve, 20));
    return { fed, methods };
  }

  it('makes the HTTP parser read through the rewriter', async () => {
    expect(await exchange(true)).toEqual({ fed: true, methods: ['GET /v1/a', 'GET /v1/b?list=true'] });
  });

  it('is needed: without it Node parses the handle natively and the rewriter never sees a byte (why server.ts checks `fed`)', async () => {
    const result = await exchange(false);
    expect(result.fed).toBe(false);
    expect(result.methods).toEqual(['GET /v1/a']);
  });
});
