/**
 * wrapResponse: store a response under a fresh single-use wrapping token (Vault response wrapping,
 * `X-Vault-Wrap-TTL`). The payload is sealed with the environment's `_wrap` key, bound to the token's
 * accessor; the token is returned once and stored only as SHA-256(token).
 */
import { newAccessor } from '../../auth/accessor.js';
import type { Environment } from '../../core/types.js';
import { checkWrapTtl, wrapBinding, type WrappedPayload, type WrappingDeps } from './shared.js';
import { generateWrappingToken, hashWrappingToken } from './wrapping-token.js';

export interface WrapResponseInput {
  readonly env: Environment;
  /** Vault's creation_path: the request path without /v1/, e.g. `secret/data/app`. */
  readonly creationPath: string;
  readonly ttlSeconds: number;
  readonly payload: WrappedPayload;
}

export interface WrapResult {
  readonly token: string;
  readonly accessor: string;
  readonly ttlSeconds: number;
  readonly createdAt: Date;
  readonly creationPath: string;
}

export type WrapResponse = (input: WrapResponseInput) => Promise<WrapResult>;

export function makeWrapResponse(deps: WrappingDeps): WrapResponse {
  return async ({ env, creationPath, ttlSeconds, payload }) => {
    const ttl = checkWrapTtl(ttlSeconds);
    const token = await generateWrappingToken((n) => deps.hsm.randomBytes(n));
    const accessor = await newAccessor(deps.hsm);
    const body = {
      ...(payload.data !== undefined ? { data: payload.data } : {}),
      ...(payload.auth !== undefined ? { auth: payload.auth } : {}),
      ...(payload.warnings && payload.warnings.length > 0 ? { warnings: payload.warnings } : {}),
    };
    const sealed = await deps.sealer.seal(env, wrapBinding(env, accessor), Buffer.from(JSON.stringify(body), 'utf8'));
    const createdAt = deps.clock.now();
    await deps.store.putWrappingToken({
      idHash: hashWrappingToken(token),
      accessor,
      env,
      creationPath,
      ttlSeconds: ttl,
      createdAt,
      expiresAt: new Date(createdAt.getTime() + ttl * 1000),
      sealedPayload: sealed.envelope,
      keyVersion: sealed.keyVersion,
      rootTerm: sealed.rootTerm,
    });
    return { token, accessor, ttlSeconds: ttl, createdAt, creationPath };
  };
}
