/**
 * A tiny scriptable stand-in for a Vault-compatible server on 127.0.0.1 (plain HTTP), for SDK and
 * CLI unit tests. Each test supplies a handler; every request is recorded for assertions.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeRequest {
  readonly method: string;
  /** Path including any query string. */
  readonly url: string;
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: unknown;
  readonly at: number;
}

export interface FakeReply {
  readonly status?: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  readonly delayMs?: number;
  /** Drop the connection without answering. */
  readonly destroy?: boolean;
}

export type FakeHandler = (req: FakeRequest) => FakeReply | Promise<FakeReply>;

export interface FakeVault {
  readonly address: string;
  readonly requests: FakeRequest[];
  handler: FakeHandler;
  close(): Promise<void>;
}

export async function startFakeVault(handler: FakeHandler): Promise<FakeVault> {
  const requests: FakeRequest[] = [];
  let counter = 0;
  const fake: FakeVault = { address: '', requests, handler, close: async () => undefined };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const url = req.url ?? '/';
      const record: FakeRequest = { method: req.method ?? 'GET', url, path: url.split('?')[0] ?? url, headers: req.headers, body: text ? (JSON.parse(text) as unknown) : undefined, at: Date.now() };
      requests.push(record);
      void Promise.resolve(fake.handler(record)).then(async (reply) => {
        if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
        if (reply.destroy) {
          req.socket.destroy();
          return;
        }
        const body = reply.body === undefined ? '' : JSON.stringify(reply.body);
        res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', 'x-request-id': `req-${++counter}`, ...(reply.headers ?? {}) });
        res.end(body);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(fake, {
    address: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

/** Vault's envelope around `data`. */
export const ok = (data: unknown): FakeReply => ({ status: 200, body: { request_id: 'r', lease_id: '', renewable: false, lease_duration: 0, data, wrap_info: null, warnings: null, auth: null } });
export const authReply = (token: string, leaseSeconds: number, policies: string[] = ['default']): FakeReply => ({
  status: 200,
  body: { request_id: 'r', data: null, auth: { client_token: token, accessor: `acc-${token}`, policies, token_policies: policies, lease_duration: leaseSeconds, renewable: true } },
});
export const err = (status: number, message: string, headers?: Record<string, string>): FakeReply => ({ status, body: { errors: [message] }, ...(headers ? { headers } : {}) });
