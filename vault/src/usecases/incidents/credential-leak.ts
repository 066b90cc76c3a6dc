/**
 * The credential-leak playbook: a service credential escaped (an AppRole role's secret IDs, or one
 * token by its accessor).
 *
 *   role:     destroy every secret ID of the role (AppRole service) and revoke every token issued
 *             through it (subject `approle/<env>/<role>`, with descendants);
 *   accessor: revoke the token behind the accessor and its children;
 *   then list what those credentials did (audit entries of the subject — for an accessor, only the
 *   entries whose HMAC-ed accessor matches — in the last `days` days) and suggest rotations: keys they
 *   used through decrypt / datakey / rewrap (their material may have been exercised) and secrets they
 *   read; finally write the report (Markdown + JSON).
 *
 * Invariants:
 * - Idempotent: keyed by kind + env + target while open; a re-run revokes again (anything issued since
 *   is revoked too, which is what a responder wants while the incident is open) and returns the same
 *   incident. Revoking what is already revoked changes nothing.
 * - The token running the playbook is never revoked by it.
 * - A token of another environment is "not found" here, as everywhere.
 */
import { invalidInput, notFound } from '../../core/errors.js';
import type { Environment } from '../../core/types.js';
import { approleSubject, parseRoleName } from '../../auth/approle/approle-service.js';
import { newest, scanAudit, timelineRow } from './audit-scan.js';
import { finish, type PlaybookResult } from './key-compromise.js';
import { makeKeyedMutex, openLedger } from './ledger.js';
import type { PlaybookActor, PlaybookAppRole, PlaybookDeps } from './ports.js';

export const CREDENTIAL_LEAK_KIND = 'credential-leak';
const KEY_USE_OPERATIONS = new Set(['transit.decrypt', 'transit.datakey', 'transit.rewrap']);
const DAY_MS = 86_400_000;

export interface CredentialLeakInput {
  readonly env: Environment;
  readonly role?: string;
  readonly accessor?: string;
  /** How far back to list activity; default 7, at most 365. */
  readonly days?: number;
  readonly actor: PlaybookActor;
}

export type CredentialLeak = (input: CredentialLeakInput) => Promise<PlaybookResult>;

export interface CredentialLeakDeps extends PlaybookDeps {
  readonly approle: PlaybookAppRole;
  readonly timelineLimit?: number;
}

export function makeCredentialLeak(deps: CredentialLeakDeps): CredentialLeak {
  const serialise = makeKeyedMutex();
  return async (input) => {
    if ((input.role === undefined) === (input.accessor === undefined)) throw invalidInput('give exactly one of role or accessor');
    const days = input.days ?? 7;
    if (!Number.isSafeInteger(days) || days < 1 || days > 365) throw invalidInput('days must be 1..365');
    const role = input.role !== undefined ? parseRoleName(input.role) : undefined;
    const target = role !== undefined ? `role:${role}` : `accessor:${input.accessor}`;
    return serialise(`${input.env}/${target}`, async () => {
      let subject: string;
      let accessorHmac: string | null = null;
      if (role !== undefined) {
        subject = approleSubject(input.env, role);
      } else {
        const record = await deps.tokens.lookupAccessor(input.accessor ?? '');
        if (!record || (record.env !== input.env && record.env !== '*')) throw notFound('token accessor not found');
        subject = record.subject;
        accessorHmac = await deps.hashAccessor(record.accessor);
      }
      const ledger = await openLedger(deps.incidents, {
        env: input.env,
        kind: CREDENTIAL_LEAK_KIND,
        playbookKey: `${input.env}/${target}`,
        summary: role !== undefined ? `Credentials of AppRole role ${role} leaked` : `Token ${input.accessor ?? ''} leaked`,
        actor: input.actor,
        details: { playbook: 'credential-leak', role: role ?? null, accessor: input.accessor ?? null, subject, days },
        now: deps.clock.now(),
        newId: deps.newId,
      });

      let secretIds = 0;
      let tokens = 0;
      if (role !== undefined) {
        for (const a of await deps.approle.listSecretIdAccessors(input.env, role)) if (await deps.approle.destroyAccessor(input.env, role, a)) secretIds++;
        tokens = await deps.tokens.revokeSubject(subject, 'incident-credential-leak');
      } else if (input.accessor !== undefined && input.accessor !== input.actor.accessor) {
        tokens = await deps.tokens.revokeAccessor(input.accessor, 'incident-credential-leak');
      }
      if (!ledger.has('credentials.revoked') || secretIds > 0 || tokens > 0) {
        await ledger.record('credentials.revoked', { secret_ids_destroyed: secretIds, tokens_revoked: tokens });
      }

      const since = deps.clock.now().getTime() - days * DAY_MS;
      const activity = await scanAudit(deps.audit, { fromMs: since, subject }, (e) => e.entry.type === 'response' && (accessorHmac === null || e.entry.identity?.accessor === accessorHmac));
      const keysUsed = new Map<string, Set<string>>();
      const secretsRead = new Set<string>();
      const byOperation: Record<string, number> = {};
      for (const e of activity.entries) {
        const b = e.entry;
        byOperation[b.operation] = (byOperation[b.operation] ?? 0) + 1;
        if (b.outcome !== 'success') continue;
        if (b.key_name && KEY_USE_OPERATIONS.has(b.operation)) keysUsed.set(b.key_name, (keysUsed.get(b.key_name) ?? new Set()).add(b.operation));
        if (b.operation === 'secret.data.read' && b.path.startsWith('secret/data/')) secretsRead.add(b.path.slice('secret/data/'.length));
      }
      const nextSteps: string[] = [];
      for (const [k, ops] of keysUsed) {
        nextSteps.push(`key \`${k}\` was used with ${[...ops].sort().join(', ')}: consider \`keyward --namespace ${input.env} incident key-compromise --key ${k}\` (rotates it) or at least \`transit/keys/${k}/rotate\``);
      }
      for (const p of [...secretsRead].sort()) nextSteps.push(`secret \`${p}\` was read: rotate the credential it holds and write a new version`);
      if (role !== undefined) nextSteps.push(`issue new credentials for the role: \`keyward approle secret-id ${role}\` (then deliver it wrapped)`);
      const suggestions = { keys: [...keysUsed.keys()].sort(), secrets: [...secretsRead].sort() };
      if (!ledger.has('rotations.suggested')) await ledger.record('rotations.suggested', suggestions);

      return finish(ledger, {
        target: role !== undefined ? { role, subject } : { accessor: input.accessor, subject },
        findings: { days, requests: activity.entries.length, by_operation: byOperation, keys_used_for_decryption: suggestions.keys, secrets_read: suggestions.secrets },
        nextSteps,
        auditTimeline: newest(activity.entries.map(timelineRow), deps.timelineLimit ?? 200),
        truncated: activity.truncated,
      });
    });
  };
}
