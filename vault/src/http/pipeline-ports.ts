/**
 * What the request pipeline needs from the auth, authz, MFA and accountability modules. main.ts
 * wires real implementations; tests may pass simple ones. Kept here (not in core) because they
 * speak in request terms (tokens, ACL paths), not key-hierarchy terms.
 */
import type { Environment } from '../core/types.js';
import type { Capability, RequestContext, RequestPrincipal } from './route-spec.js';

export interface Authenticator {
  /**
   * Verify a bearer token. `env` is the namespace the caller asked for, or null when none was
   * given (the token's own environment then applies). Any failure: ERR_PERMISSION_DENIED.
   */
  authenticate(token: string, env: Environment | null): Promise<RequestPrincipal>;
}

export interface AuthzDecision {
  readonly allowed: boolean;
  readonly grantingPolicies: readonly string[];
  readonly reason: string;
  readonly mfaMethods: readonly string[];
}

export interface PolicyEvaluator {
  evaluate(aclPath: string, capability: Capability, parameters?: Record<string, unknown>): AuthzDecision;
}

export interface Authorizer {
  /** Load the principal's policies for this environment once per request. */
  forPrincipal(principal: RequestPrincipal, env: Environment): Promise<PolicyEvaluator>;
}

export interface MfaVerifier {
  /** Throws ERR_MFA_REQUIRED / ERR_PERMISSION_DENIED unless `header` satisfies every one of `methods`. */
  verify(principal: RequestPrincipal, env: Environment, methods: readonly string[], header: string | undefined): Promise<void>;
}

/** Cross-cutting observers (rate limits, metrics, anomaly detection). A hook may throw to refuse. */
export interface PipelineHook {
  /** Before authentication: per-source-address limits. */
  onRequest?(info: { requestId: string; sourceAddress: string; method: string; path: string }): Promise<void> | void;
  /** After authentication: per-identity limits, suspensions. */
  onAuthenticated?(ctx: RequestContext): Promise<void> | void;
  /** After the response is decided (also for failures). Must not throw. */
  onResponse?(info: {
    ctx: RequestContext | null;
    requestId: string;
    sourceAddress: string;
    operation: string;
    status: number;
    errorCode: string | null;
    durationMs: number;
  }): void;
}

/** Root tokens and the `root` policy bypass evaluation, as in Vault. */
export const rootEvaluator: PolicyEvaluator = {
  evaluate: () => ({ allowed: true, grantingPolicies: ['root'], reason: 'root', mfaMethods: [] }),
};
