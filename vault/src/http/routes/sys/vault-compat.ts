/**
 * Vault's older sys endpoints (sys/policy, sys/capabilities*) answer with their fields both at the top
 * level and inside `data`; Vault's own Go client and node-vault read the top-level ones. This builds
 * that body as a raw JSON reply so those clients keep working unmodified.
 */
import { envelope } from '../../envelope.js';
import type { Reply, RequestContext } from '../../route-spec.js';

export function topLevelReply(ctx: RequestContext, data: Record<string, unknown>): Reply {
  const body = { ...data, ...envelope(ctx.requestId, { data }) };
  return { status: 200, raw: { contentType: 'application/json', body: JSON.stringify(body) } };
}
