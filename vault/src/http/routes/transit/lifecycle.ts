/**
 * Keyward's key lifecycle endpoints beside Vault's transit API:
 *   POST transit/keys/:name/{disable,enable,compromise,schedule-deletion,cancel-deletion}
 *   POST transit/keys/:name/versions/:version/{disable,enable,compromise,destroy}
 *   GET  transit/keys/:name/lifecycle            (state, deadline, per-version states and expiry)
 * and Keyward's version of Vault's DELETE (it replaces the plain one in index.ts):
 *   DELETE transit/keys/:name        → pending_deletion (default window), or destroyed with
 *                                      `?immediate=true`, which needs `sudo` on the path
 * (POST transit/keys/:name/config takes `max_versions` and `version_ttl` too when the lifecycle is
 * wired: key-admin.ts, answering with `lifecycleKeyData`.)
 * Every transition is annotated into the request's audit entry (from, to, reason, deadline).
 */
import type { Request } from 'express';
import { z } from 'zod';
import { permissionDenied } from '../../../core/errors.js';
import { versionExpiresAt } from '../../../core/keyring.js';
import type { TransitKeyRecord } from '../../../core/ports/key-store.js';
import { parseKeyVersion } from '../../../core/types.js';
import type { DeleteKeyLifecycle, TransitionKey, TransitionVersion } from '../../../usecases/lifecycle/key-transitions.js';
import type { ReadKey } from '../../../usecases/transit/index.js';
import type { RouteSpec } from '../../route-spec.js';
import { parseInput, vInt } from '../../schema.js';
import { keyData, keyNameOf } from './common.js';

export interface TransitLifecycleDeps {
  readonly transitionKey: TransitionKey;
  readonly transitionVersion: TransitionVersion;
  readonly deleteKey: DeleteKeyLifecycle;
  readonly readKey: ReadKey;
}

const iso = (d: Date | null): string | null => (d === null ? null : d.toISOString());

/** Vault's key data plus Keyward's lifecycle fields. */
export function lifecycleKeyData(key: TransitKeyRecord): Record<string, unknown> {
  const versions: Record<string, unknown> = {};
  for (const v of key.versions) {
    versions[String(v.version)] = { state: v.state, created_time: v.createdAt.toISOString(), expiration_time: iso(versionExpiresAt(key, v)), root_term: v.rootTerm };
  }
  return {
    ...keyData(key),
    state: key.state,
    deletion_deadline: iso(key.deletionDeadline),
    last_rotated_time: key.lastRotatedAt.toISOString(),
    max_versions: key.config.maxVersions,
    version_ttl: key.config.versionTtlSeconds,
    versions,
  };
}

/** `?immediate=true` (Vault-style booleans); the same parse decides the capability and the action. */
export function wantsImmediate(req: Request): boolean {
  const raw = req.query['immediate'];
  return typeof raw === 'string' && ['1', 't', 'T', 'true', 'TRUE', 'True'].includes(raw);
}

const compromiseBody = z.object({ reason: z.string().trim().min(1).max(1024) });
const scheduleBody = z.object({ pending_window_days: vInt.optional() });
const deleteQuery = z.object({ pending_window_days: vInt.optional() }).passthrough();

type KeyAction = 'disable' | 'enable' | 'compromise' | 'schedule-deletion' | 'cancel-deletion';
const KEY_ACTIONS: Record<KeyAction, Parameters<TransitionKey>[0]['action']> = {
  disable: 'disable',
  enable: 'enable',
  compromise: 'compromise',
  'schedule-deletion': 'schedule_deletion',
  'cancel-deletion': 'cancel_deletion',
};
const VERSION_ACTIONS = ['disable', 'enable', 'compromise', 'destroy'] as const;

export function transitLifecycleRoutes(deps: TransitLifecycleDeps): RouteSpec[] {
  const keyActionRoutes: RouteSpec[] = (Object.keys(KEY_ACTIONS) as KeyAction[]).map((path) => ({
    method: 'POST',
    path: `/transit/keys/:name/${path}`,
    operation: `transit.keys.${KEY_ACTIONS[path]}`,
    handler: async (req, ctx) => {
      const name = keyNameOf(req, ctx);
      let pendingWindowDays: number | undefined;
      if (path === 'compromise') ctx.audit.details['reason'] = parseInput(compromiseBody, req.body).reason;
      if (path === 'schedule-deletion') pendingWindowDays = parseInput(scheduleBody, req.body).pending_window_days;
      const r = await deps.transitionKey({ env: ctx.env, name, action: KEY_ACTIONS[path], ...(pendingWindowDays !== undefined ? { pendingWindowDays } : {}) });
      Object.assign(ctx.audit.details, { from: r.from, to: r.to, ...(r.deletionDeadline ? { deletion_deadline: r.deletionDeadline.toISOString() } : {}) });
      return { data: lifecycleKeyData(r.key) };
    },
  }));

  const versionRoutes: RouteSpec[] = VERSION_ACTIONS.map((action) => ({
    method: 'POST',
    path: `/transit/keys/:name/versions/:version/${action}`,
    operation: `transit.keys.version.${action}`,
    handler: async (req, ctx) => {
      const name = keyNameOf(req, ctx);
      const version = parseKeyVersion(Number(parseInput(z.object({ version: vInt }), req.params).version));
      ctx.audit.keyVersion = version;
      if (action === 'compromise') ctx.audit.details['reason'] = parseInput(compromiseBody, req.body).reason;
      const r = await deps.transitionVersion({ env: ctx.env, name, version, action });
      Object.assign(ctx.audit.details, { from: r.from, to: r.to });
      return { data: lifecycleKeyData(r.key) };
    },
  }));

  return [
    ...keyActionRoutes,
    ...versionRoutes,
    {
      method: 'GET',
      path: '/transit/keys/:name/lifecycle',
      operation: 'transit.keys.lifecycle.read',
      handler: async (req, ctx) => ({ data: lifecycleKeyData(await deps.readKey({ env: ctx.env, name: keyNameOf(req, ctx) })) }),
    },
    {
      method: 'DELETE',
      path: '/transit/keys/:name',
      operation: 'transit.keys.delete',
      capability: (req) => (wantsImmediate(req) ? 'sudo' : 'delete'),
      handler: async (req, ctx) => {
        const name = keyNameOf(req, ctx);
        const immediate = wantsImmediate(req);
        // The pipeline authorised `sudo`; destroying is still a delete, so the caller needs both.
        if (immediate && !ctx.can('delete')) throw permissionDenied();
        const q = parseInput(deleteQuery, req.query);
        const r = await deps.deleteKey({ env: ctx.env, name, immediate, ...(q.pending_window_days !== undefined ? { pendingWindowDays: q.pending_window_days } : {}) });
        Object.assign(ctx.audit.details, { from: r.from, to: r.to, immediate, ...(r.deletionDeadline ? { deletion_deadline: r.deletionDeadline.toISOString() } : {}) });
        return { status: 204 };
      },
    },
  ];
}
