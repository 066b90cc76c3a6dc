/**
 * The contract between the request pipeline (app.ts) and feature routes. A route is a thin
 * adapter: it parses its input with a zod schema (schema.ts), calls one use case, and returns a
 * Reply. Everything cross-cutting — request id, namespace, authentication, authorisation (always
 * BEFORE the handler, so a 404 never tells an unauthorised caller that something exists), audit,
 * error mapping and the Vault response envelope — is done by the pipeline, never by a route.
 */
import type { Request } from 'express';
import type { Environment } from '../core/types.js';

export type Capability = 'create' | 'read' | 'update' | 'patch' | 'delete' | 'list' | 'sudo' | 'deny';
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'LIST';

/** The authenticated caller, as the pipeline hands it to routes. */
export interface RequestPrincipal {
  readonly jti: string;
  readonly accessor: string;
  readonly subject: string;
  readonly authMethod: string;
  readonly role: string | null;
  readonly policies: readonly string[];
  /** The token's environment, or '*' for a root token. */
  readonly env: string;
  readonly isRoot: boolean;
  /** Source networks the token may be used from; empty or absent = any. */
  readonly boundCidrs?: readonly string[];
  readonly issuedAt: Date;
  readonly expiresAt: Date;
}

/** What a route may add to the audit entry of its request (never secrets in clear). */
export interface AuditAnnotations {
  keyName?: string;
  keyVersion?: number;
  /** Hashed by the audit sink as hmac-sha256:<hex>; never stored in clear. */
  sensitive: Record<string, string>;
  details: Record<string, unknown>;
}

export interface RequestContext {
  readonly requestId: string;
  readonly env: Environment;
  /** Null only on routes with `auth: 'none'`. */
  readonly principal: RequestPrincipal | null;
  readonly sourceAddress: string;
  readonly startedAt: number;
  /** The ACL path (no /v1/ prefix) and the capability the pipeline authorised. */
  readonly aclPath: string;
  readonly capability: Capability;
  /** Ask the policy engine about another capability (e.g. `create` for Vault's encrypt upsert). */
  can(capability: Capability, aclPath?: string): boolean;
  readonly audit: AuditAnnotations;
}

export interface WrapInfo {
  readonly token: string;
  readonly accessor: string;
  readonly ttl: number;
  readonly creation_time: string;
  readonly creation_path: string;
}

export interface AuthBlock {
  readonly client_token: string;
  readonly accessor: string;
  readonly policies: readonly string[];
  readonly token_policies: readonly string[];
  readonly metadata: Record<string, string> | null;
  readonly lease_duration: number;
  readonly renewable: boolean;
  readonly entity_id: string;
  readonly token_type: string;
  readonly orphan: boolean;
}

export interface Reply {
  /** Default: 200 when there is data/auth/warnings, 204 otherwise. */
  readonly status?: number;
  readonly data?: unknown;
  readonly warnings?: readonly string[];
  readonly auth?: AuthBlock;
  readonly wrapInfo?: WrapInfo;
  /** Non-JSON bodies (Prometheus text, CSV). */
  readonly raw?: { readonly contentType: string; readonly body: string | Buffer };
  readonly headers?: Readonly<Record<string, string>>;
}

export interface RouteSpec {
  readonly method: HttpMethod | readonly HttpMethod[];
  /** express path below /v1, e.g. '/transit/encrypt/:name'. */
  readonly path: string;
  /** 'none': no token needed (health, logins, JWKS, unwrap which checks its own token). */
  readonly auth?: 'token' | 'none';
  /** Audit operation name, e.g. 'transit.encrypt'. */
  readonly operation: string;
  /** ACL path override; default is the request path without the /v1/ prefix. */
  readonly aclPath?: (req: Request) => string;
  /** Capability override; default from the method (GET read / list, POST+PUT update, DELETE delete, PATCH patch, LIST list). */
  readonly capability?: Capability | ((req: Request) => Capability);
  /**
   * Vault's existence check: the write is authorised by `update` (the resource exists) or by
   * `create` (it does not). The pipeline accepts either; `ctx.capability` says which was granted,
   * and the handler must refuse an existing resource when only `create` was.
   */
  readonly upsert?: boolean;
  /**
   * The operation changes no state (decrypt, data key, reads): its audit request entry may be
   * committed together with the response entry, before the answer, instead of before the handler.
   * Never set this on a route that writes anything.
   */
  readonly sideEffectFree?: boolean | ((req: Request, ctx: RequestContext) => boolean);
  readonly handler: (req: Request, ctx: RequestContext) => Promise<Reply | null>;
}

/** Routes are grouped per feature: `export function transitRoutes(deps): RouteSpec[]`. */
export type RouteGroup = readonly RouteSpec[];
