/**
 * Signs checkpoints of the chain head with the HSM's ES256 key `keyward-audit-es256-1`: every
 * `every` entries (triggered after a commit) and every `intervalMs` when new entries exist, and on
 * demand (stop, archive). A checkpoint binds { seq, entry_hash, time, key_id }; whoever can write
 * the database but not use the HSM key cannot rewrite entries at or below a checkpoint unnoticed.
 *
 * Checkpoints are serialised within a process; across processes the (seq) primary key and
 * INSERT OR IGNORE make a duplicate harmless.
 */
import type { Logger } from 'pino';
import type { Clock } from '../core/ports/clock.js';
import type { Hsm, PublicJwk } from '../core/ports/hsm.js';
import type { AuditStore } from './audit-store.js';
import { checkpointPayload } from './chain.js';
import { AUDIT_SIGNING_KEY_LABEL, type AuditCheckpoint } from './types.js';

export interface AuditPublicKey extends PublicJwk {
  readonly kid: string;
  readonly alg: 'ES256';
  readonly use: 'sig';
}

export class Checkpointer {
  private lastSeq = 0;
  private running: Promise<AuditCheckpoint | null> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private jwk: AuditPublicKey | null = null;
  private signed = 0;

  constructor(
    /** Reads go to the store; the insert to whoever writes the trail (the writer thread). */
    private readonly store: Pick<AuditStore, 'head' | 'lastCheckpoint' | 'insertCheckpoint'>,
    private readonly hsm: Pick<Hsm, 'ensureSigningKey' | 'signEs256'>,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly every: number,
    private readonly intervalMs: number,
    private readonly label: string = AUDIT_SIGNING_KEY_LABEL,
  ) {}

  async start(): Promise<void> {
    const pub = await this.hsm.ensureSigningKey(this.label);
    this.jwk = { ...pub, kid: this.label, alg: 'ES256', use: 'sig' };
    this.lastSeq = (await this.store.lastCheckpoint())?.seq ?? 0;
    if (this.intervalMs > 0) {
      this.timer = setInterval(() => void this.checkpointHead().catch(() => undefined), this.intervalMs);
      this.timer.unref();
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }

  publicKey(): AuditPublicKey {
    if (!this.jwk) throw new Error('checkpointer not started');
    return this.jwk;
  }

  get count(): number {
    return this.signed;
  }

  /** Called after each commit with the new head seq. */
  onCommitted(headSeq: number): void {
    if (headSeq - this.lastSeq >= this.every) void this.checkpointHead().catch(() => undefined);
  }

  /** Sign the current head if it is newer than the last checkpoint. */
  checkpointHead(): Promise<AuditCheckpoint | null> {
    if (this.running) return this.running;
    this.running = (async () => {
      try {
        const head = await this.store.head();
        if (!head) return null;
        const last = (await this.store.lastCheckpoint())?.seq ?? 0;
        this.lastSeq = Math.max(this.lastSeq, last);
        if (head.seq <= this.lastSeq) return null;
        return await this.sign(head.seq, head.hash);
      } catch (e) {
        this.logger.error({ code: (e as { code?: string }).code ?? 'error' }, 'audit checkpoint failed');
        throw e;
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  /** Sign a checkpoint for a given (seq, hash), e.g. the last entry of an archive. */
  async sign(seq: number, entryHash: string): Promise<AuditCheckpoint> {
    const unsigned = { seq, entry_hash: entryHash, time: this.clock.now().toISOString(), key_id: this.label };
    const sig = await this.hsm.signEs256(this.label, checkpointPayload(unsigned));
    const cp: AuditCheckpoint = { ...unsigned, signature: sig.toString('base64url') };
    await this.store.insertCheckpoint(cp);
    this.lastSeq = Math.max(this.lastSeq, seq);
    this.signed++;
    return cp;
  }
}
