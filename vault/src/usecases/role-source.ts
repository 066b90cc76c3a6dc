/**
 * RoleSource: where the access review and the policy lint learn which roles bind which policies in
 * an environment. The integrator wires AppRole and JWT roles (and any named token roles) into one
 * list; durations are seconds, with 0 or Infinity meaning "unbounded" as lintPolicies reads them.
 */
import type { Environment } from '../core/types.js';

export interface RoleInfo {
  readonly kind: 'approle' | 'jwt' | 'token';
  readonly name: string;
  readonly policies: readonly string[];
  readonly tokenTtl?: number;
  readonly tokenMaxTtl?: number;
  readonly secretIdTtl?: number;
}

export interface RoleSource {
  listRoles(env: Environment): Promise<RoleInfo[]>;
}
