/**
 * The listening edge: a TLS (or, on loopback only, plain TCP) listener whose sockets are handed,
 * unwrapped, to a non-listening `http.Server` via `emit('connection')`, with a ListMethodRewriter
 * interposed on each socket's readable side (list-method-interposer.ts), so Vault clients' `LIST`
 * requests reach the app as `GET …?list=true` + `X-Keyward-Original-Method: LIST`.
 *
 * Invariants:
 * - HTTPS unless plain HTTP is explicitly allowed AND the listen host is loopback (127.0.0.0/8,
 *   ::1, localhost); tokens must never cross a network in clear text.
 * - TLS ≥ 1.2, Node's default cipher list, server cipher order.
 * - Slow or stuck clients are cut off: TLS handshake and request heads within headersTimeout,
 *   whole requests within requestTimeout, idle keep-alive connections after keepAliveTimeout.
 * - `X-Keyward-Original-Method` reaches the app only when our rewriter put it there; a request whose
 *   bytes did not pass the rewriter is refused (the connection is dropped).
 * - close(grace): stop accepting at once, let in-flight requests finish (answered with
 *   `Connection: close`), destroy whatever is left when the grace period ends.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net, { type Socket } from 'node:net';
import tls from 'node:tls';
import { KeywardError } from '../core/errors.js';
import { ORIGINAL_METHOD_HEADER } from './list-method-rewriter.js';
import { interposeListMethodRewriter, listMethodTapOf, readThroughJs } from './list-method-interposer.js';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface ServerOptions {
  /** `host:port`; IPv6 hosts in brackets (`[::1]:8200`). Port 0 picks a free port. */
  readonly listen: string;
  readonly tls?: { readonly certPem: string; readonly keyPem: string } | null;
  /** Serve plain HTTP when no TLS material is given; refused unless the host is loopback. */
  readonly allowPlainHttp?: boolean;
  readonly requestTimeoutMs?: number;
  readonly headersTimeoutMs?: number;
  readonly keepAliveTimeoutMs?: number;
}

export interface RunningServer {
  readonly address: { readonly host: string; readonly port: number };
  readonly url: string;
  /** Stops accepting, lets in-flight requests finish for up to `graceMs`, then drops the rest. */
  close(graceMs?: number): Promise<void>;
}

const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 5_000;
const DEFAULT_CLOSE_GRACE_MS = 10_000;
const CLOSE_POLL_MS = 25;
/** Room beyond the parser's own limit, so an oversized head is still rejected by the parser (431). */
const HEAD_SLACK_BYTES = 4096;

export async function startServer(app: RequestHandler, options: ServerOptions): Promise<RunningServer> {
  const { host, port } = parseListen(options.listen);
  const headersTimeoutMs = timeoutOption('headersTimeoutMs', options.headersTimeoutMs, DEFAULT_HEADERS_TIMEOUT_MS);
  const requestTimeoutMs = timeoutOption('requestTimeoutMs', options.requestTimeoutMs, DEFAULT_REQUEST_TIMEOUT_MS);
  const keepAliveTimeoutMs = timeoutOption('keepAliveTimeoutMs', options.keepAliveTimeoutMs, DEFAULT_KEEP_ALIVE_TIMEOUT_MS);
  if (headersTimeoutMs > requestTimeoutMs) {
    throw new KeywardError('ERR_INVALID_INPUT', 'headersTimeoutMs must not exceed requestTimeoutMs');
  }
  const tlsMaterial = options.tls ?? null;
  if (tlsMaterial === null) {
    if (options.allowPlainHttp !== true) {
      throw new KeywardError('ERR_INVALID_INPUT', 'TLS certificate and key are required (plain HTTP is not allowed)');
    }
    if (!isLoopbackHost(host)) {
      throw new KeywardError('ERR_INVALID_INPUT', `plain HTTP is only allowed on a loopback address, not ${host}`);
    }
  }

  // The parser side. It never listens; `listening` is emitted once by hand because that is what
  // starts Node's connection tracking, which enforces headersTimeout/requestTimeout and backs
  // closeIdleConnections/closeAllConnections.
  const httpServer = http.createServer({
    headersTimeout: headersTimeoutMs,
    requestTimeout: requestTimeoutMs,
    keepAliveTimeout: keepAliveTimeoutMs,
    // The rewriter's framing must agree with a strict parser: never let `--insecure-http-parser`
    // make llhttp lenient here (lenient parsing is where request smuggling lives).
    insecureHTTPParser: false,
    // Node checks the two timeouts on this interval (default 30 s): keep it well below them.
    connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.floor(headersTimeoutMs / 4))),
  });
  httpServer.emit('listening');

  // rawSockets: every TCP connection (still in the TLS handshake or not); httpSockets: those handed
  // to the HTTP server (TLSSockets, or the same TCP sockets in plain mode).
  const rawSockets = new Set<Socket>();
  const httpSockets = new Set<Socket>();
  const inFlight = new Set<ServerResponse>();
  let closing = false;

  httpServer.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const tap = listMethodTapOf(req.socket);
    if (tap === undefined || !tap.fed) {
      // The parser got these bytes without the rewriter (it never cleaned this head): fail closed.
      req.socket.destroy();
      return;
    }
    if (tap.rewriter.passthrough) {
      // The rewriter gave up on this connection, so it did not clean this head: distrust the header.
      delete req.headers[ORIGINAL_METHOD_HEADER];
      req.rawHeaders = withoutRawHeader(req.rawHeaders, ORIGINAL_METHOD_HEADER);
    }
    if (closing && !res.headersSent) res.setHeader('Connection', 'close');
    inFlight.add(res);
    res.once('close', () => inFlight.delete(res));
    app(req, res);
  });

  const maxHeadBytes = http.maxHeaderSize + HEAD_SLACK_BYTES;
  const handOver = (socket: Socket): void => {
    if (closing) {
      socket.destroy();
      return;
    }
    interposeListMethodRewriter(socket, { headTimeoutMs: headersTimeoutMs, maxHeadBytes });
    httpSockets.add(socket);
    socket.once('close', () => httpSockets.delete(socket));
    httpServer.emit('connection', socket);
    readThroughJs(socket);
  };
  const trackRaw = (socket: Socket): void => {
    rawSockets.add(socket);
    socket.once('close', () => rawSockets.delete(socket));
  };

  let listener: net.Server;
  if (tlsMaterial !== null) {
    const tlsServer = tls.createServer({
      cert: tlsMaterial.certPem,
      key: tlsMaterial.keyPem,
      minVersion: 'TLSv1.2',
      honorCipherOrder: true,
      ALPNProtocols: ['http/1.1'],
      // A client that never finishes the handshake is as stuck as one that never sends headers.
      handshakeTimeout: headersTimeoutMs,
      allowHalfOpen: true,
      noDelay: true,
    });
    tlsServer.on('connection', trackRaw);
    tlsServer.on('secureConnection', handOver);
    // Failed or timed-out handshakes (scanners, stuck clients): Node reports them here but leaves a
    // timed-out socket open, so it is closed explicitly.
    tlsServer.on('tlsClientError', (_err: Error, socket: tls.TLSSocket) => socket.destroy());
    listener = tlsServer;
  } else {
    const plainServer = net.createServer({ allowHalfOpen: true, noDelay: true });
    plainServer.on('connection', (socket: Socket) => {
      trackRaw(socket);
      handOver(socket);
    });
    listener = plainServer;
  }

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(new KeywardError('ERR_INVALID_INPUT', `cannot listen on ${options.listen} (${err.code ?? 'error'})`, { cause: err }));
    };
    listener.once('error', onError);
    listener.listen({ host, port }, () => {
      listener.removeListener('error', onError);
      resolve();
    });
  });

  const bound = listener.address() as net.AddressInfo;
  const urlHost = bound.family === 'IPv6' || host.includes(':') ? `[${bound.address}]` : host;
  let closed: Promise<void> | null = null;

  return {
    address: { host: bound.address, port: bound.port },
    url: `${tlsMaterial === null ? 'http' : 'https'}://${urlHost}:${bound.port}`,
    close(graceMs = DEFAULT_CLOSE_GRACE_MS): Promise<void> {
      closed ??= (async (): Promise<void> => {
        closing = true;
        const listenerClosed = new Promise<void>((resolve) => listener.close(() => resolve()));
        // Responses not yet started will say `Connection: close`; finished ones free their socket.
        for (const res of inFlight) if (!res.headersSent) res.setHeader('Connection', 'close');
        const deadline = Date.now() + Math.max(0, graceMs);
        const waitUntil = async (done: () => boolean): Promise<void> => {
          while (!done() && Date.now() < deadline) {
            httpServer.closeIdleConnections();
            await sleep(Math.min(CLOSE_POLL_MS, Math.max(1, deadline - Date.now())));
          }
        };
        await waitUntil(() => inFlight.size === 0);
        // Every response is written: end the remaining connections gracefully (destroySoon flushes
        // first), which also frees keep-alive and half-sent-request connections.
        for (const socket of httpSockets) socket.destroySoon();
        await waitUntil(() => httpSockets.size === 0);
        // Grace is over: drop whatever is left, including connections still in the TLS handshake.
        for (const socket of httpSockets) socket.destroy();
        for (const socket of rawSockets) socket.destroy();
        await listenerClosed;
        await new Promise<void>((resolve) => httpServer.close(() => resolve()));
      })();
      return closed;
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function timeoutOption(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) {
    throw new KeywardError('ERR_INVALID_INPUT', `${name} must be a positive integer (milliseconds)`);
  }
  return value;
}

/** `host:port` or `[v6]:port` → parts; the port must be an integer in 0..65535. */
export function parseListen(listen: string): { host: string; port: number } {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(listen.trim());
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (host === undefined || !Number.isInteger(port) || port > 65535 || (match?.[1] !== undefined && net.isIPv6(host) === false)) {
    throw new KeywardError('ERR_INVALID_INPUT', `invalid listen address ${JSON.stringify(listen)} (expected host:port)`);
  }
  return { host, port };
}

/** 127.0.0.0/8, ::1 (also as an IPv4-mapped 127.x address) and the name localhost. */
export function isLoopbackHost(host: string): boolean {
  const lower = host.toLowerCase();
  if (lower === 'localhost') return true;
  if (net.isIPv4(lower)) return lower.startsWith('127.');
  if (net.isIPv6(lower)) {
    if (lower === '::1' || /^0{0,4}(:0{0,4}){6}:0{0,3}1$/.test(lower)) return true;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
    return mapped !== null && (mapped[1] as string).startsWith('127.');
  }
  return false;
}

function withoutRawHeader(rawHeaders: string[], lowerName: string): string[] {
  const kept: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if ((rawHeaders[i] as string).toLowerCase() !== lowerName) kept.push(rawHeaders[i] as string, rawHeaders[i + 1] as string);
  }
  return kept;
}
