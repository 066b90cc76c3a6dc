/**
 * The SDK's transport: one HTTPS (or loopback HTTP) request to a Vault-compatible server, with
 * the CA to trust, token, namespace and a timeout. No runtime dependencies beyond node:https.
 * Errors carry status, the server's `errors` list and the request id; never the token or body.
 */
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';

export interface TransportOptions {
  /** e.g. https://127.0.0.1:8200 */
  readonly address: string;
  /** PEM of the CA to trust, or a path to it. */
  readonly caPem?: string;
  readonly caFile?: string;
  readonly namespace?: string;
  readonly timeoutMs?: number;
  /** Sent with every request unless the request sets the same header (e.g. X-Vault-MFA). */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface RawResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  readonly requestId: string | undefined;
}

export type ErrorKind = 'http' | 'network' | 'timeout';

export class KeywardApiError extends Error {
  readonly kind: ErrorKind;
  readonly status: number;
  readonly errors: readonly string[];
  readonly requestId: string | undefined;
  readonly retryAfterSeconds: number | undefined;
  /** A stable code for programs: e.g. 'permission_denied', 'not_found', 'rate_limited', 'unavailable'. */
  readonly code: string;
  /** For kind 'network': the socket error code (e.g. ECONNREFUSED), so retry rules need not read messages. */
  readonly networkCode: string | undefined;

  constructor(init: { kind: ErrorKind; status: number; errors: readonly string[]; requestId?: string; retryAfterSeconds?: number; message?: string; networkCode?: string }) {
    super(init.message ?? (init.errors.length > 0 ? init.errors.join('; ') : `HTTP ${init.status}`));
    this.name = 'KeywardApiError';
    this.kind = init.kind;
    this.status = init.status;
    this.errors = init.errors;
    this.requestId = init.requestId;
    this.retryAfterSeconds = init.retryAfterSeconds;
    this.code = codeFor(init.kind, init.status);
    this.networkCode = init.networkCode;
  }
}

function codeFor(kind: ErrorKind, status: number): string {
  if (kind !== 'http') return kind;
  switch (status) {
    case 400:
      return 'invalid_request';
    case 403:
      return 'permission_denied';
    case 404:
      return 'not_found';
    case 405:
      return 'unsupported_operation';
    case 409:
      return 'conflict';
    case 412:
      return 'precondition_failed';
    case 413:
      return 'payload_too_large';
    case 429:
      return 'rate_limited';
    case 503:
      return 'unavailable';
    default:
      return status >= 500 ? 'server_error' : 'http_error';
  }
}

export interface RequestOptions {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'LIST';
  /** Path below the address, e.g. /v1/transit/encrypt/payments */
  readonly path: string;
  readonly body?: unknown;
  readonly token?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
}

export class HttpTransport {
  private readonly url: URL;
  private readonly agent: http.Agent;
  private readonly namespace: string | undefined;
  private readonly defaultHeaders: Readonly<Record<string, string>>;
  private readonly timeoutMs: number;

  constructor(options: TransportOptions) {
    this.url = new URL(options.address);
    if (this.url.protocol !== 'https:' && this.url.protocol !== 'http:') throw new Error('address must be an http(s) URL');
    const ca = options.caPem ?? (options.caFile ? fs.readFileSync(options.caFile, 'utf8') : undefined);
    this.agent =
      this.url.protocol === 'https:'
        ? new https.Agent({ keepAlive: true, maxSockets: 64, ...(ca ? { ca } : {}) })
        : new http.Agent({ keepAlive: true, maxSockets: 64 });
    this.namespace = options.namespace;
    this.defaultHeaders = { ...(options.headers ?? {}) };
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  get address(): string {
    return this.url.origin;
  }

  async request(opts: RequestOptions): Promise<RawResponse> {
    const payload = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
    const headers: Record<string, string> = { accept: 'application/json', ...this.defaultHeaders, ...(opts.headers ?? {}) };
    if (payload) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(payload.length);
    }
    if (opts.token) headers['x-vault-token'] = opts.token;
    if (this.namespace && !headers['x-vault-namespace']) headers['x-vault-namespace'] = this.namespace;
    // LIST is sent as Vault's equivalent GET ?list=true: every HTTP stack can carry it.
    let method: string = opts.method;
    let path = opts.path;
    if (method === 'LIST') {
      method = 'GET';
      path += path.includes('?') ? '&list=true' : '?list=true';
    }
    const mod = this.url.protocol === 'https:' ? https : http;
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    return new Promise<RawResponse>((resolve, reject) => {
      const req = mod.request(
        { protocol: this.url.protocol, hostname: this.url.hostname, port: this.url.port, path, method, headers, agent: this.agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (e) => reject(new KeywardApiError({ kind: 'network', status: 0, errors: [], message: `network error: ${e.message}` })));
          res.on('end', () => {
            const rid = res.headers['x-request-id'];
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), requestId: typeof rid === 'string' ? rid : undefined });
          });
        },
      );
      req.setTimeout(timeoutMs, () => {
        req.destroy();
        reject(new KeywardApiError({ kind: 'timeout', status: 0, errors: [], message: `request timed out after ${timeoutMs} ms` }));
      });
      req.on('error', (e: NodeJS.ErrnoException) => {
        if (e instanceof KeywardApiError) return reject(e);
        reject(new KeywardApiError({ kind: 'network', status: 0, errors: [], message: `network error: ${e.code ?? e.message}`, ...(e.code ? { networkCode: e.code } : {}) }));
      });
      if (payload) req.write(payload);
      req.end();
    });
  }

  /** Request and decode JSON; a status >= 400 becomes a KeywardApiError. */
  async json<T = unknown>(opts: RequestOptions): Promise<T> {
    return (await this.jsonResponse<T>(opts)).body;
  }

  /** As json(), but also returns the status and request id (the SDK logs them). */
  async jsonResponse<T = unknown>(opts: RequestOptions): Promise<{ status: number; requestId: string | undefined; body: T }> {
    const res = await this.request(opts);
    let parsed: unknown = undefined;
    if (res.body.length > 0) {
      try {
        parsed = JSON.parse(res.body);
      } catch {
        parsed = undefined;
      }
    }
    if (res.status >= 400) {
      const errors = parsed && typeof parsed === 'object' && Array.isArray((parsed as { errors?: unknown }).errors) ? ((parsed as { errors: unknown[] }).errors.map(String)) : [];
      const ra = res.headers['retry-after'];
      const retryAfter = typeof ra === 'string' && /^\d+$/.test(ra) ? Number(ra) : undefined;
      throw new KeywardApiError({ kind: 'http', status: res.status, errors, ...(res.requestId ? { requestId: res.requestId } : {}), ...(retryAfter !== undefined ? { retryAfterSeconds: retryAfter } : {}) });
    }
    return { status: res.status, requestId: res.requestId, body: parsed as T };
  }

  close(): void {
    this.agent.destroy();
  }
}
