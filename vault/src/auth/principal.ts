/**
 * Principal: who a verified token speaks for. Built only by TokenService.verify (or issue, for the
 * token it just minted), so holding one means the signature, claims, revocation state and
 * environment have all been checked.
 */
export const ROOT_POLICY = 'root';
/** The environment value carried only by the root token: valid in every environment. */
export const ALL_ENVIRONMENTS = '*';

export interface Principal {
  readonly jti: string;
  readonly accessor: string;
  readonly subject: string;
  readonly authMethod: string;
  readonly role: string | null;
  readonly policies: readonly string[];
  /** An environment name, or '*' for the root token. */
  readonly env: string;
  readonly issuedAt: Date;
  readonly expiresAt: Date;
  /** Carries the 'root' policy (Vault's root token semantics: every capability). */
  readonly isRoot: boolean;
  /** Vault's token_bound_cidrs: source networks the token may be used from ([] = any). */
  readonly boundCidrs?: readonly string[];
}
