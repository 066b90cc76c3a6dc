/**
 * createClient: composes the transport, retry policy, auth session and the API groups into the
 * client object. Every authenticated call gets a fresh-enough token from the session; a 403 makes
 * AppRole/JWT sessions log in again once and repeat the call once - never in a loop.
 */
import { KeywardError } from '../../vault/src/core/errors.js';
import { AuthSession } from './auth.js';
import { makeRawCall, type Method } from './call.js';
import { mapLimit } from './concurrency.js';
import { HttpTransport, KeywardApiError } from './http-client.js';
import { DEFAULT_RETRY_POLICY, type RetryClass } from './retry.js';
import { makeSecrets, type SecretsApi } from './secrets.js';
import { makeTransit, type TransitApi } from './transit.js';
import type { ClientOptions, LoginResult } from './types.js';

export type AuthedCall = <T>(method: Method, path: string, opts: { body?: unknown; retry: RetryClass }) => Promise<T>;

export interface KeywardClient {
  /** Log in now (AppRole/JWT/wrapping token), or look up a plain token. */
  login(): Promise<LoginResult>;
  /** The current token, or undefined before the first login. Handle it as a secret. */
  token(): string | undefined;
  readonly transit: TransitApi;
  readonly secrets: SecretsApi;
  /**
   * Read several KV secrets concurrently (at most `concurrency`, default 8) for service start-up.
   * Values that are not strings are JSON-encoded. Rejects if any path fails: start-up fails closed.
   */
  loadSecrets(paths: readonly string[], opts?: { concurrency?: number }): Promise<Record<string, Record<string, string>>>;
  /** Stop the re-login timer and close idle connections. */
  close(): void;
}

export const LOAD_SECRETS_CONCURRENCY = 8;

export function createClient(options: ClientOptions): KeywardClient {
  const transport =
    options.transport ??
    (() => {
      if (!options.address) throw new KeywardError('ERR_INVALID_INPUT', 'address is required');
      return new HttpTransport({
        address: options.address,
        ...(options.caPem !== undefined ? { caPem: options.caPem } : {}),
        ...(options.caFile !== undefined ? { caFile: options.caFile } : {}),
        ...(options.namespace !== undefined ? { namespace: options.namespace } : {}),
        ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      });
    })();
  const raw = makeRawCall(transport, options.retries ?? DEFAULT_RETRY_POLICY, options.logger);
  const session = new AuthSession(raw, options.auth, options.mfa ?? []);

  const call: AuthedCall = async <T>(method: Method, path: string, opts: { body?: unknown; retry: RetryClass }): Promise<T> => {
    const token = await session.ensureToken();
    try {
      return await raw<T>(method, path, { ...opts, token });
    } catch (err) {
      if (!(err instanceof KeywardApiError && err.status === 403)) throw err;
      // Maybe our token was revoked or expired early: log in once more, then repeat once.
      if (!(await session.reloginAfterForbidden(token))) throw err;
      return raw<T>(method, path, { ...opts, token: await session.ensureToken() });
    }
  };

  const secrets = makeSecrets(call);
  return {
    login: () => session.login(),
    token: () => session.token(),
    transit: makeTransit(call),
    secrets,
    async loadSecrets(paths, opts) {
      const unique = [...new Set(paths)];
      const values = await mapLimit(unique, opts?.concurrency ?? LOAD_SECRETS_CONCURRENCY, async (p) => stringify((await secrets.read(p)).data));
      const out: Record<string, Record<string, string>> = {};
      unique.forEach((p, i) => {
        out[p] = values[i] as Record<string, string>;
      });
      return out;
    },
    close() {
      session.close();
      if (!options.transport) transport.close();
    },
  };
}

function stringify(data: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(data)) out[k] = typeof v === 'string' ? v : JSON.stringify(v);
  return out;
}
