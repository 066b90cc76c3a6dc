/**
 * The key-compromise playbook: contain a key (or one version) believed exposed.
 *
 *   1. mark the version(s) compromised (the lifecycle transition): they no longer encrypt or decrypt;
 *      only rewrap may still read them (core/keyring.ts);
 *   2. rotate the key once, so encryption continues under a fresh version;
 *   3. internal keys (`_kv`, `_wrap`): run the bulk rewrap of stored data; customer keys: Keyward stores
 *      nothing under them — the report lists the `keyward rewrap` command for client-held ciphertexts;
 *   4. raise min_decryption_version above the compromised versions once nothing Keyward stores uses
 *      them (internal keys); for customer keys only with `raise_min_decryption`, since clients may hold
 *      old ciphertexts — otherwise the report gives the command;
 *   5. optionally revoke the tokens that used the key since a time: audit entries naming the key give
 *      (subject, HMAC(accessor)); each live token of those subjects whose accessor HMACs to a match is
 *      revoked with its children (the token running the playbook is never revoked);
 *   6. write the report (Markdown + JSON) with the audit timeline.
 *
 * Invariants:
 * - Idempotent: the incident is keyed by kind + env + key + version while open; a step on its timeline
 *   is not repeated (the key is rotated once per incident). A re-run continues unfinished steps
 *   (e.g. a rewrap still running, min_decryption_version still waiting for it).
 * - Without `version`, every version up to the latest at the time of the first run is compromised;
 *   the key itself stays active so the rotated version can encrypt.
 */
import { invalidInput } from '../../core/errors.js';
import type { IncidentRecord } from '../../core/ports/incident-store.js';
import { parseKeyName, internalKeyName, isReservedKeyName, parseKeyVersion, type Environment, type KeyName } from '../../core/types.js';
import { STORED_KEY_NAMES } from '../rewrap/stored-data.js';
import { newest, scanAudit, timelineRow } from './audit-scan.js';
import { makeKeyedMutex, openLedger, type Ledger } from './ledger.js';
import type { PlaybookActor, PlaybookDeps, PlaybookKeys, PlaybookRewrap } from './ports.js';
import { buildReport, renderMarkdown, type PlaybookReport } from './report.js';

export const KEY_COMPROMISE_KIND = 'key-compromise';

export interface KeyCompromiseInput {
  readonly env: Environment;
  readonly key: string;
  readonly version?: number;
  readonly revokeTokensSince?: Date;
  readonly raiseMinDecryption?: boolean;
  readonly actor: PlaybookActor;
}

export interface PlaybookResult {
  readonly incident: IncidentRecord;
  readonly created: boolean;
  readonly report: PlaybookReport;
  readonly markdown: string;
}

export type KeyCompromise = (input: KeyCompromiseInput) => Promise<PlaybookResult>;

export interface KeyCompromiseDeps extends PlaybookDeps {
  readonly keyOps: PlaybookKeys;
  readonly rewrap: PlaybookRewrap;
  /** How long one run waits for the stored-data rewrap before reporting it as still running. Default 60 s. */
  readonly rewrapWaitMs?: number;
  /** Audit rows shown in the report. Default 200. */
  readonly timelineLimit?: number;
}

function keyNameOf(raw: string): KeyName {
  return isReservedKeyName(raw) ? internalKeyName(raw) : parseKeyName(raw);
}

export function makeKeyCompromise(deps: KeyCompromiseDeps): KeyCompromise {
  const serialise = makeKeyedMutex();
  const waitMs = deps.rewrapWaitMs ?? 60_000;
  return async (input) => {
    const name = keyNameOf(input.key);
    const version = input.version === undefined ? undefined : parseKeyVersion(input.version);
    const playbookKey = `${input.env}/${name}/${version ?? 'all'}`;
    return serialise(playbookKey, async () => {
      const key = await deps.keyOps.keys.getKey(input.env, name);
      if (!key) throw invalidInput('key not found');
      if (version !== undefined && version > key.latestVersion) throw invalidInput('key version not found');
      const internal = STORED_KEY_NAMES.includes(name);
      const ledger = await openLedger(deps.incidents, {
        env: input.env,
        kind: KEY_COMPROMISE_KIND,
        playbookKey,
        summary: `Key ${name}${version !== undefined ? ` version ${version}` : ''} compromised`,
        actor: input.actor,
        details: {
          key: name,
          version: version ?? null,
          internal,
          latest_version_at_open: key.latestVersion,
          revoke_tokens_since: input.revokeTokensSince?.toISOString() ?? null,
          raise_min_decryption: input.raiseMinDecryption === true,
        },
        now: deps.clock.now(),
        newId: deps.newId,
      });
      const opened = ledger.incident().timeline[0]?.details ?? {};
      const latestAtOpen = typeof opened['latest_version_at_open'] === 'number' ? opened['latest_version_at_open'] : key.latestVersion;
      const compromised = version !== undefined ? [version] : Array.from({ length: latestAtOpen }, (_, i) => i + 1);
      const threshold = Math.max(...compromised) + 1;
      const nextSteps: string[] = [];

      // 1. compromise
      if (!ledger.has('versions.compromised')) {
        const current = (await deps.keyOps.keys.getKey(input.env, name)) ?? key;
        const marked: number[] = [];
        for (const v of compromised) {
          const rec = current.versions.find((x) => x.version === v);
          if (!rec || (rec.state !== 'active' && rec.state !== 'disabled')) continue; // trimmed, destroyed or already compromised
          await deps.keyOps.compromiseVersion(input.env, name, parseKeyVersion(v));
          marked.push(v);
        }
        await ledger.record('versions.compromised', { versions: marked });
      }

      // 2. rotate once per incident
      if (!ledger.has('key.rotated')) {
        const rotated = await deps.keyOps.rotateKey({ env: input.env, name });
        await ledger.record('key.rotated', { new_version: rotated.latestVersion });
      }

      // 3. stored data
      let rewrapState: string | null = null;
      if (internal) {
        if (!ledger.has('stored_data.rewrapped')) {
          if (!ledger.has('stored_data.rewrap_started')) {
            const r = await deps.rewrap.job.start({ env: input.env, key: name });
            await ledger.record('stored_data.rewrap_started', { target_version: r.job.targetVersion, total: r.job.total });
          }
          deps.rewrap.runInBackground(input.env);
          const deadline = Date.now() + waitMs;
          let s = await deps.rewrap.job.status(input.env);
          while (s.state === 'running' && Date.now() < deadline) {
            await new Promise((r) => setTimeout(r, 100));
            s = await deps.rewrap.job.status(input.env);
          }
          rewrapState = s.state;
          if (s.state === 'done' && s.key === name) await ledger.record('stored_data.rewrapped', { target_version: s.targetVersion, done: s.done, failed: s.failed });
          else nextSteps.push(`stored-data rewrap is ${s.state}: follow it with \`keyward rotate --rewrap --key ${name}\`, then re-run this playbook to raise min_decryption_version`);
        }
      } else if (!ledger.has('stored_data.none')) {
        await ledger.record('stored_data.none', { reason: 'customer transit key: Keyward stores no data under it; ciphertexts are held by clients' });
      }
      if (!internal) {
        nextSteps.push(`re-encrypt client-held ciphertexts: \`keyward --namespace ${input.env} rewrap --key ${name} --in ciphertexts.txt --out rewrapped.txt\` (or --format jsonl --field ciphertext)`);
      }

      // 4. min_decryption_version
      if (!ledger.has('min_decryption.raised')) {
        const now = (await deps.keyOps.keys.getKey(input.env, name)) ?? key;
        if (now.config.minDecryptionVersion >= threshold) {
          await ledger.record('min_decryption.raised', { min_decryption_version: now.config.minDecryptionVersion, already: true });
        } else if (internal) {
          const used = await deps.rewrap.usedVersions(input.env, name);
          const stillUsed = [...used].filter((v) => v < threshold).sort((a, b) => a - b);
          if (stillUsed.length === 0) {
            await deps.keyOps.updateKeyConfig({ env: input.env, name, patch: { minDecryptionVersion: threshold } });
            await ledger.record('min_decryption.raised', { min_decryption_version: threshold });
          } else if (rewrapState !== 'running') {
            nextSteps.push(`stored data still uses versions ${stillUsed.join(', ')}; re-run the playbook once the rewrap is done`);
          }
        } else if (input.raiseMinDecryption) {
          await deps.keyOps.updateKeyConfig({ env: input.env, name, patch: { minDecryptionVersion: threshold } });
          await ledger.record('min_decryption.raised', { min_decryption_version: threshold });
        } else {
          nextSteps.push(
            `when clients have rewrapped: \`keyward --namespace ${input.env} incident key-compromise --key ${name}${version !== undefined ? ` --version ${version}` : ''} --raise-min-decryption\` (sets min_decryption_version=${threshold})`,
          );
        }
      }

      // 5. tokens that used the key in the window
      const since = input.revokeTokensSince;
      let usage = await scanAudit(deps.audit, { fromMs: since?.getTime() ?? ledger.incident().createdAt.getTime() - 86_400_000, path: 'transit/*' }, (e) => e.entry.key_name === name && e.entry.env === input.env);
      if (since && !ledger.has(`tokens.revoked:${since.toISOString()}`)) {
        const revoked = await revokeUsers(deps, usage.entries.map((e) => e.entry.identity), input.actor);
        await ledger.record(`tokens.revoked:${since.toISOString()}`, { since: since.toISOString(), revoked_accessors: revoked.accessors, tokens_revoked: revoked.count, skipped_own_token: revoked.skippedOwn });
      }
      if (isReservedKeyName(name)) usage = { entries: [], truncated: false };

      // 6. report
      const rows = newest(usage.entries.map(timelineRow), deps.timelineLimit ?? 200);
      return finish(ledger, {
        target: { key: name, version: version ?? 'all', internal, compromised_versions: compromised, min_decryption_threshold: threshold },
        findings: {
          audit_entries_using_key: usage.entries.length,
          subjects: [...new Set(usage.entries.map((e) => e.entry.identity?.subject).filter((s): s is string => typeof s === 'string'))],
          stored_data: internal ? (ledger.has('stored_data.rewrapped') ? 'rewrapped' : `rewrap ${rewrapState ?? 'pending'}`) : 'none (customer key)',
        },
        nextSteps,
        auditTimeline: rows,
        truncated: usage.truncated,
      });
    });
  };
}

/** Match audit identities (subject, HMAC-ed accessor) to live tokens and revoke them with their children. */
export async function revokeUsers(
  deps: Pick<PlaybookDeps, 'tokens' | 'hashAccessor' | 'clock'>,
  identities: ReadonlyArray<{ subject: string; accessor?: string } | undefined>,
  actor: PlaybookActor,
): Promise<{ count: number; accessors: string[]; skippedOwn: boolean }> {
  const wanted = new Map<string, Set<string>>();
  for (const id of identities) {
    if (!id?.accessor) continue;
    const set = wanted.get(id.subject) ?? new Set<string>();
    set.add(id.accessor);
    wanted.set(id.subject, set);
  }
  const now = deps.clock.now().getTime();
  let count = 0;
  let skippedOwn = false;
  const accessors: string[] = [];
  for (const [subject, hmacs] of wanted) {
    for (const t of await deps.tokens.listBySubject(subject)) {
      if (t.revokedAt !== null || t.expiresAt.getTime() <= now) continue;
      if (!hmacs.has(await deps.hashAccessor(t.accessor))) continue;
      if (actor.accessor !== null && t.accessor === actor.accessor) {
        skippedOwn = true;
        continue;
      }
      count += await deps.tokens.revokeAccessor(t.accessor, 'incident-playbook');
      accessors.push(t.accessor);
    }
  }
  return { count, accessors, skippedOwn };
}

export async function finish(
  ledger: Ledger,
  parts: Parameters<typeof buildReport>[1],
): Promise<PlaybookResult> {
  const draft = buildReport(ledger.incident(), parts);
  const markdown = renderMarkdown(draft);
  await ledger.setReport(markdown);
  const incident = ledger.incident();
  const report = buildReport(incident, parts);
  return { incident, created: ledger.created, report, markdown: renderMarkdown(report) };
}
