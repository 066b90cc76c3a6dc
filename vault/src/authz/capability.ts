/**
 * Capabilities: the verbs a Vault ACL path rule grants, and the mapping from an HTTP request to the
 * one capability it needs (Vault's operation model: GET→read, LIST/?list=true→list, POST/PUT→create
 * or update by existence, DELETE→delete, PATCH→patch).
 *
 * Invariant: `deny` is a rule marker, never something a request asks for, so request-facing code uses
 * `OperationCapability`, which excludes it at compile time.
 */

/** Canonical order: used wherever a capability list is printed, stored or diffed. */
export const CAPABILITIES = ['create', 'read', 'update', 'patch', 'delete', 'list', 'sudo', 'deny'] as const;

export type Capability = (typeof CAPABILITIES)[number];

/** What a request can need; `deny` only ever appears in rules. */
export type OperationCapability = Exclude<Capability, 'deny'>;

export const OPERATION_CAPABILITIES: readonly OperationCapability[] = CAPABILITIES.filter(
  (c): c is OperationCapability => c !== 'deny',
);

export type RequestMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'LIST';

const CAPABILITY_SET: ReadonlySet<string> = new Set(CAPABILITIES);

export function isCapability(value: string): value is Capability {
  return CAPABILITY_SET.has(value);
}

/** Deduplicates and orders capabilities canonically (see CAPABILITIES). */
export function sortCapabilities<C extends Capability>(caps: Iterable<C>): C[] {
  const present = new Set<Capability>(caps);
  return CAPABILITIES.filter((c) => present.has(c)) as C[];
}

/**
 * The capability a request needs, as Vault derives its logical operation.
 * - `exists` is the result of the backend's existence check. When the backend has none
 *   (`exists` undefined), Vault treats a write as an update; we do the same so a policy granting
 *   only `create` cannot overwrite resources on paths without an existence check.
 */
export function capabilityForRequest(
  method: RequestMethod,
  opts: { list?: boolean; exists?: boolean } = {},
): OperationCapability {
  switch (method) {
    case 'GET':
      return opts.list === true ? 'list' : 'read';
    case 'LIST':
      return 'list';
    case 'POST':
    case 'PUT':
      return opts.exists === false ? 'create' : 'update';
    case 'DELETE':
      return 'delete';
    case 'PATCH':
      return 'patch';
  }
}
