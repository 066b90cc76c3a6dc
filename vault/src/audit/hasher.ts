/**
 * HMAC-SHA256 of audit values inside the HSM (key `keyward-audit-hmac-1`, never extractable), as
 * Vault's audit `hmac-sha256:` strings: investigators can match a known value with
 * `sys/audit-hash` without the log ever holding it in clear.
 *
 * Token accessors repeat on every request of a token, so their HMACs are cached (an accessor is not
 * a secret); sensitive values are never cached, so no secret outlives the call in this module.
 */
import type { Hsm } from '../core/ports/hsm.js';
import { AUDIT_HMAC_KEY_LABEL, HMAC_PREFIX } from './types.js';

const ACCESSOR_CACHE_MAX = 4096;

export class AuditHasher {
  private readonly accessorCache = new Map<string, string>();

  constructor(
    private readonly hsm: Pick<Hsm, 'hmacSha256' | 'ensureMacKey'>,
    private readonly label: string = AUDIT_HMAC_KEY_LABEL,
  ) {}

  async ensureKey(): Promise<void> {
    await this.hsm.ensureMacKey(this.label);
  }

  async hash(value: string): Promise<string> {
    const mac = await this.hsm.hmacSha256(this.label, Buffer.from(value, 'utf8'));
    return `${HMAC_PREFIX}${mac.toString('hex')}`;
  }

  /** The cached HMAC of an accessor, if any (lets the entry builder skip a promise per record). */
  cachedAccessor(accessor: string): string | undefined {
    return this.accessorCache.get(accessor);
  }

  async hashAccessor(accessor: string): Promise<string> {
    const hit = this.accessorCache.get(accessor);
    if (hit !== undefined) return hit;
    const h = await this.hash(accessor);
    if (this.accessorCache.size >= ACCESSOR_CACHE_MAX) {
      const oldest = this.accessorCache.keys().next().value;
      if (oldest !== undefined) this.accessorCache.delete(oldest);
    }
    this.accessorCache.set(accessor, h);
    return h;
  }
}
