/**
 * Keyward's incident playbooks (no Vault counterpart), per environment (X-Vault-Namespace), sudo:
 *   POST /v1/sys/incidents/key-compromise  { key, version?, revoke_tokens_since?, raise_min_decryption? }
 *   POST /v1/sys/incidents/credential-leak { role? | accessor?, days? }
 * Each answers { incident (with timeline), created, report (JSON), report_markdown }. Idempotent: the
 * same parameters return the same open incident (usecases/incidents/ledger.ts). Registered before the
 * generic `sys/incidents/:id` routes so these paths are not taken for incident ids.
 */
import { z } from 'zod';
import { invalidInput } from '../../../core/errors.js';
import type { CredentialLeak } from '../../../usecases/incidents/credential-leak.js';
import type { KeyCompromise, PlaybookResult } from '../../../usecases/incidents/key-compromise.js';
import type { RequestContext, RouteSpec } from '../../route-spec.js';
import { parseInput, vBool, vInt } from '../../schema.js';
import { incidentView } from './incidents.js';

export interface IncidentPlaybookRouteDeps {
  readonly keyCompromise: KeyCompromise;
  readonly credentialLeak: CredentialLeak;
}

const keyCompromiseBody = z.object({
  key: z.string().min(1).max(129),
  version: vInt.optional(),
  revoke_tokens_since: z.string().max(64).optional(),
  raise_min_decryption: vBool.optional(),
});

const credentialLeakBody = z.object({ role: z.string().min(1).max(128).optional(), accessor: z.string().min(1).max(128).optional(), days: vInt.optional() });

function parseTime(raw: string | undefined): Date | undefined {
  if (raw === undefined || raw === '') return undefined;
  const d = new Date(raw);
  if (Number.isNaN(d.getTime())) throw invalidInput('revoke_tokens_since must be an RFC 3339 time');
  return d;
}

const actorOf = (ctx: RequestContext) => ({ subject: ctx.principal?.subject ?? 'unknown', accessor: ctx.principal?.accessor ?? null });

function reply(r: PlaybookResult, ctx: RequestContext) {
  ctx.audit.details['incident_id'] = r.incident.id;
  ctx.audit.details['incident_created'] = r.created;
  return { data: { incident: incidentView(r.incident), created: r.created, report: r.report, report_markdown: r.markdown } };
}

export function incidentPlaybookRoutes(deps: IncidentPlaybookRouteDeps): RouteSpec[] {
  return [
    {
      method: ['POST', 'PUT'],
      path: '/sys/incidents/key-compromise',
      operation: 'sys.incidents.key-compromise',
      capability: 'sudo',
      handler: async (req, ctx) => {
        const b = parseInput(keyCompromiseBody, req.body);
        ctx.audit.keyName = b.key;
        if (b.version !== undefined) ctx.audit.keyVersion = b.version;
        const since = parseTime(b.revoke_tokens_since);
        const r = await deps.keyCompromise({
          env: ctx.env,
          key: b.key,
          ...(b.version !== undefined ? { version: b.version } : {}),
          ...(since ? { revokeTokensSince: since } : {}),
          ...(b.raise_min_decryption ? { raiseMinDecryption: true } : {}),
          actor: actorOf(ctx),
        });
        return reply(r, ctx);
      },
    },
    {
      method: ['POST', 'PUT'],
      path: '/sys/incidents/credential-leak',
      operation: 'sys.incidents.credential-leak',
      capability: 'sudo',
      handler: async (req, ctx) => {
        const b = parseInput(credentialLeakBody, req.body);
        const r = await deps.credentialLeak({
          env: ctx.env,
          ...(b.role !== undefined ? { role: b.role } : {}),
          ...(b.accessor !== undefined ? { accessor: b.accessor } : {}),
          ...(b.days !== undefined ? { days: b.days } : {}),
          actor: actorOf(ctx),
        });
        return reply(r, ctx);
      },
    },
  ];
}
