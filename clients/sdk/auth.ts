/**
 * The client's authentication session: logs in with the configured method, holds the current
 * token, and logs in again before the lease runs out (at 2/3 of lease_duration) or once after a 403,
 * for the methods that can log in again on their own (AppRole, JWT - including AppRole credentials
 * delivered in a wrapping token).
 *
 * Invariants: one login in flight at a time (concurrent callers share it); a wrapping token is
 * unwrapped at most once (it is single-use); the token never appears in an error or a log.
 */
import fs from 'node:fs';
import { KeywardError } from '../../vault/src/core/errors.js';
import { encodePath, type RawCall } from './call.js';
import type { AuthConfig, LoginResult, VaultAuthBlock, VaultResponse } from './types.js';

type Method =
  | { kind: 'token'; token: string }
  | { kind: 'approle'; roleId: string; secretId: string; mount: string }
  | { kind: 'jwt'; role: string; jwt: string | undefined; jwtFile: string | undefined; mount: string }
  | { kind: 'wrapped'; wrappingToken: string; roleId: string | undefined }
  /** A token that came out of a wrapping token's `auth` block: usable, but not renewable by login. */
  | { kind: 'fixed' };

interface Current {
  readonly token: string;
  readonly info: LoginResult;
  readonly renewAtMs: number | undefined;
}

interface UnwrappedData {
  readonly role_id?: unknown;
  readonly secret_id?: unknown;
  readonly token?: unknown;
}

interface LookupSelfData {
  readonly accessor?: string;
  readonly policies?: readonly string[] | null;
  readonly ttl?: number;
  readonly renewable?: boolean;
}

/** Fraction of the lease after which we log in again: early enough to survive a slow login. */
export const RELOGIN_FRACTION = 2 / 3;

export class AuthSession {
  private method: Method;
  private current: Current | undefined;
  private inflight: Promise<LoginResult> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly call: RawCall,
    auth: AuthConfig,
    private readonly mfa: readonly string[] = [],
  ) {
    this.method = toMethod(auth);
    if (this.method.kind === 'token') {
      this.current = { token: this.method.token, info: { method: 'token', accessor: undefined, policies: [], leaseDurationSeconds: 0, renewable: false }, renewAtMs: undefined };
    }
  }

  /** The current token, if logged in. */
  token(): string | undefined {
    return this.current?.token;
  }

  canRelogin(): boolean {
    return this.method.kind === 'approle' || this.method.kind === 'jwt';
  }

  /** A token to use now: logs in first if there is none or the lease is past its re-login point. */
  async ensureToken(): Promise<string> {
    const cur = this.current;
    if (!cur) {
      await this.login();
      return this.requireToken();
    }
    const due = cur.renewAtMs !== undefined && Date.now() >= cur.renewAtMs && this.canRelogin();
    if (!due) return cur.token;
    try {
      await this.login();
    } catch {
      // The old token still has a third of its lease left: use it, and try again next call.
      return cur.token;
    }
    return this.requireToken();
  }

  /**
   * After a 403 with `staleToken`: log in again once if the method allows. Returns whether the
   * caller should retry with the new token.
   */
  async reloginAfterForbidden(staleToken: string): Promise<boolean> {
    if (!this.canRelogin()) return false;
    if (this.current && this.current.token !== staleToken) return true; // someone already did
    await this.login();
    return true;
  }

  /** Log in (or, for a plain token, look it up). Concurrent calls share one request. */
  login(): Promise<LoginResult> {
    if (!this.inflight) {
      this.inflight = this.doLogin().finally(() => {
        this.inflight = undefined;
      });
    }
    return this.inflight;
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private requireToken(): string {
    if (!this.current) throw new KeywardError('ERR_PERMISSION_DENIED', 'not logged in');
    return this.current.token;
  }

  private async doLogin(): Promise<LoginResult> {
    if (this.method.kind === 'wrapped') await this.unwrap(this.method.wrappingToken, this.method.roleId);
    const m = this.method;
    switch (m.kind) {
      case 'token': {
        const res = await this.call<VaultResponse<LookupSelfData>>('GET', '/v1/auth/token/lookup-self', { token: m.token, retry: 'idempotent' });
        const d = res.data ?? {};
        const info: LoginResult = { method: 'token', accessor: d.accessor, policies: [...(d.policies ?? [])], leaseDurationSeconds: d.ttl ?? 0, renewable: d.renewable ?? false };
        this.current = { token: m.token, info, renewAtMs: undefined };
        return info;
      }
      case 'fixed':
        return this.current!.info;
      case 'approle':
        return this.accept('approle', await this.call<VaultResponse<unknown>>('POST', `/v1/auth/${encodePath(m.mount)}/login`, { body: { role_id: m.roleId, secret_id: m.secretId }, headers: this.mfaHeaders(), retry: 'idempotent' }));
      case 'jwt': {
        // Re-read the file on every login: projected workload tokens are rotated on disk.
        const jwt = m.jwtFile !== undefined ? fs.readFileSync(m.jwtFile, 'utf8').trim() : m.jwt;
        if (!jwt) throw new KeywardError('ERR_INVALID_INPUT', 'jwt auth needs jwt or jwtFile');
        return this.accept('jwt', await this.call<VaultResponse<unknown>>('POST', `/v1/auth/${encodePath(m.mount)}/login`, { body: { role: m.role, jwt }, headers: this.mfaHeaders(), retry: 'idempotent' }));
      }
      case 'wrapped':
        throw new KeywardError('ERR_INTERNAL', 'wrapping token was not unwrapped');
    }
  }

  /** Unwrap once; the payload decides which method the session continues with. */
  private async unwrap(wrappingToken: string, roleId: string | undefined): Promise<void> {
    // 'once': a retried unwrap would find the single-use token already spent.
    const res = await this.call<VaultResponse<UnwrappedData>>('POST', '/v1/sys/wrapping/unwrap', { token: wrappingToken, retry: 'once' });
    if (res.auth?.client_token) {
      this.method = { kind: 'fixed' };
      this.setCurrent('token', res.auth);
      return;
    }
    const d = res.data ?? {};
    const wrappedRoleId = typeof d.role_id === 'string' ? d.role_id : roleId;
    if (wrappedRoleId && typeof d.secret_id === 'string') {
      this.method = { kind: 'approle', roleId: wrappedRoleId, secretId: d.secret_id, mount: 'approle' };
      return;
    }
    if (typeof d.token === 'string') {
      this.method = { kind: 'token', token: d.token };
      return;
    }
    this.method = { kind: 'fixed' };
    throw new KeywardError('ERR_INVALID_INPUT', 'wrapped response holds no auth block, token or role_id/secret_id');
  }

  private accept(method: 'approle' | 'jwt', res: VaultResponse<unknown>): LoginResult {
    if (!res.auth?.client_token) throw new KeywardError('ERR_PERMISSION_DENIED', 'login response carried no token');
    return this.setCurrent(method, res.auth);
  }

  private setCurrent(method: LoginResult['method'], auth: VaultAuthBlock): LoginResult {
    const lease = auth.lease_duration ?? 0;
    const info: LoginResult = {
      method,
      accessor: auth.accessor,
      policies: [...(auth.token_policies ?? auth.policies ?? [])],
      leaseDurationSeconds: lease,
      renewable: auth.renewable ?? false,
    };
    const renewInMs = lease > 0 ? Math.max(50, Math.floor(lease * 1000 * RELOGIN_FRACTION)) : undefined;
    this.current = { token: auth.client_token, info, renewAtMs: renewInMs === undefined ? undefined : Date.now() + renewInMs };
    this.schedule(renewInMs);
    return info;
  }

  private schedule(renewInMs: number | undefined): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (renewInMs === undefined || this.closed || !this.canRelogin()) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      // A failed background login keeps the old token; the next call tries again (ensureToken).
      this.login().catch(() => undefined);
    }, renewInMs);
    this.timer.unref(); // never keep a process alive just to refresh a token
  }

  private mfaHeaders(): Record<string, string> | undefined {
    return this.mfa.length > 0 ? { 'x-vault-mfa': this.mfa.join(',') } : undefined;
  }
}

function toMethod(auth: AuthConfig): Method {
  if ('token' in auth) return { kind: 'token', token: auth.token };
  if ('appRole' in auth) return { kind: 'approle', roleId: auth.appRole.roleId, secretId: auth.appRole.secretId, mount: auth.appRole.mount ?? 'approle' };
  if ('jwt' in auth) {
    if (auth.jwt.jwt === undefined && auth.jwt.jwtFile === undefined) throw new KeywardError('ERR_INVALID_INPUT', 'jwt auth needs jwt or jwtFile');
    return { kind: 'jwt', role: auth.jwt.role, jwt: auth.jwt.jwt, jwtFile: auth.jwt.jwtFile, mount: auth.jwt.mount ?? 'jwt' };
  }
  if ('wrappingToken' in auth) return { kind: 'wrapped', wrappingToken: auth.wrappingToken, roleId: auth.roleId };
  throw new KeywardError('ERR_INVALID_INPUT', 'auth must be one of token, appRole, jwt, wrappingToken');
}
