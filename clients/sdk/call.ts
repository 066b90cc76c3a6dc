/**
 * One logical API call: the transport request, retried under the policy in retry.ts, with each
 * attempt reported to the optional logger as method, path, status and duration - nothing else, so
 * no token, body or secret can reach a log through the SDK.
 */
import { KeywardApiError, type HttpTransport, type RequestOptions } from './http-client.js';
import { withRetries, type RetryClass, type RetryPolicy } from './retry.js';
import type { SdkLogger } from './types.js';

export interface RawCallOptions {
  readonly body?: unknown;
  readonly token?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly retry: RetryClass;
}

export type Method = RequestOptions['method'];
export type RawCall = <T>(method: Method, path: string, opts: RawCallOptions) => Promise<T>;

export function makeRawCall(transport: HttpTransport, policy: RetryPolicy, logger: SdkLogger | undefined): RawCall {
  return async <T>(method: Method, path: string, opts: RawCallOptions): Promise<T> => {
    let attempt = 0;
    return withRetries(
      async () => {
        attempt++;
        const started = performance.now();
        // Log the path without its query string: queries carry nothing secret today, but stay safe.
        const logPath = path.split('?')[0] ?? path;
        try {
          const res = await transport.jsonResponse<T>({
            method,
            path,
            ...(opts.body !== undefined ? { body: opts.body } : {}),
            ...(opts.token !== undefined ? { token: opts.token } : {}),
            ...(opts.headers ? { headers: opts.headers } : {}),
          });
          logger?.debug({ method, path: logPath, status: res.status, durationMs: Math.round(performance.now() - started), attempt });
          return res.body;
        } catch (err) {
          const status = err instanceof KeywardApiError ? err.status : 0;
          logger?.debug({ method, path: logPath, status, durationMs: Math.round(performance.now() - started), attempt });
          throw err;
        }
      },
      policy,
      opts.retry,
    );
  };
}

/** Encode each segment of a slash-separated path, keeping the slashes. */
export function encodePath(p: string): string {
  return p
    .split('/')
    .filter((s) => s.length > 0)
    .map(encodeURIComponent)
    .join('/');
}
