/**
 * Audit fails closed (DESIGN.md §5): a use case or the request pipeline awaits `record` before it
 * acts or answers; if `record` throws, the operation does not happen and the caller gets 503.
 * Entries carry no plaintext, ciphertext, token or secret: sensitive values are passed through
 * `hmac-sha256:` by the sink (see vault/src/audit).
 */
export interface AuditEvent {
  readonly type: 'request' | 'response' | 'lifecycle';
  readonly time: Date;
  readonly requestId: string;
  readonly env?: string;
  readonly identity?: {
    readonly subject: string;
    readonly authMethod: string;
    readonly role?: string;
    readonly accessor?: string;
    readonly policies?: readonly string[];
  };
  readonly sourceAddress?: string;
  readonly operation: string;
  readonly path: string;
  readonly keyName?: string;
  readonly keyVersion?: number;
  readonly decision?: { readonly allowed: boolean; readonly grantingPolicies: readonly string[]; readonly reason?: string };
  readonly outcome?: 'success' | 'denied' | 'error' | 'unauthenticated';
  readonly status?: number;
  readonly durationMs?: number;
  readonly errorCode?: string;
  /** Values investigators may need to match; the sink stores them only as `hmac-sha256:<hex>`. */
  readonly sensitive?: Readonly<Record<string, string>>;
  readonly details?: Readonly<Record<string, unknown>>;
}

export interface AuditSink {
  record(event: AuditEvent): Promise<void>;
}
