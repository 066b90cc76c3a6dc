/**
 * Step-up MFA endpoints (Vault Enterprise's name-based paths, which Keyward follows):
 *   /v1/sys/mfa/method/totp/:name            POST/PUT create-update → { method_id }, GET, DELETE
 *   /v1/sys/mfa/method/totp                  LIST
 *   /v1/sys/mfa/method/totp/:name/generate   GET/POST: enrol the calling token's subject → { url }
 *   /v1/sys/mfa/method/totp/:name/admin-generate  POST { entity_id }: enrol that subject
 *   /v1/sys/mfa/method/totp/:name/admin-destroy   POST { entity_id }: remove that enrolment
 * `entity_id` is a Keyward token subject (e.g. `jwt:alice@example.com`). The otpauth URL is shown
 * once; a subject already enrolled gets a warning and no URL, as Vault answers.
 */
import type { Request } from 'express';
import { z } from 'zod';
import type { MfaService, TotpConfig } from '../../../auth/mfa/mfa-service.js';
import { invalidInput, notFound, permissionDenied } from '../../../core/errors.js';
import type { RouteSpec } from '../../route-spec.js';
import { parseInput, vDuration, vInt } from '../../schema.js';

export interface MfaRouteDeps {
  readonly mfa: MfaService;
}

const methodBody = z.object({
  issuer: z.string().optional(),
  period: vDuration.optional(),
  key_size: vInt.optional(),
  algorithm: z.string().optional(),
  digits: vInt.optional(),
  skew: vInt.optional(),
  max_validation_attempts: vInt.optional(),
  lockout_seconds: vDuration.optional(),
  qr_size: vInt.optional(), // accepted for Vault compatibility; Keyward returns no barcode
});
const entityBody = z.object({ entity_id: z.string().min(1).max(256) });

const nameOf = (req: Request): string => String(req.params['name'] ?? '');

function methodData(id: string, name: string, c: TotpConfig): Record<string, unknown> {
  return { id, name, type: 'totp', ...c };
}

async function enrolReply(mfa: MfaService, env: Parameters<MfaService['enrol']>[0], name: string, subject: string) {
  const r = await mfa.enrol(env, name, subject);
  if (r.alreadyEnrolled || r.url === null) return { warnings: ['Entity already has a secret for MFA method "' + name + '"'] };
  return { data: { url: r.url, barcode: '' } };
}

export function mfaRoutes(deps: MfaRouteDeps): RouteSpec[] {
  const mfa = deps.mfa;
  return [
    {
      method: ['POST', 'PUT'],
      path: '/sys/mfa/method/totp/:name',
      operation: 'sys.mfa.method.write',
      handler: async (req, ctx) => {
        const b = parseInput(methodBody, req.body);
        const { qr_size: _qr, ...config } = b;
        const r = await mfa.writeTotpMethod(ctx.env, nameOf(req), config);
        return { data: { method_id: r.methodId } };
      },
    },
    {
      method: 'GET',
      path: '/sys/mfa/method/totp/:name',
      operation: 'sys.mfa.method.read',
      handler: async (req, ctx) => {
        const m = await mfa.readMethod(ctx.env, nameOf(req));
        if (!m) throw notFound('');
        return { data: methodData(m.record.methodId, m.record.name, m.config) };
      },
    },
    {
      method: 'DELETE',
      path: '/sys/mfa/method/totp/:name',
      operation: 'sys.mfa.method.delete',
      handler: async (req, ctx) => {
        await mfa.deleteMethod(ctx.env, nameOf(req));
        return { status: 204 };
      },
    },
    {
      method: 'LIST',
      path: '/sys/mfa/method/totp',
      operation: 'sys.mfa.method.list',
      handler: async (_req, ctx) => ({ data: { keys: await mfa.listMethods(ctx.env) } }),
    },
    {
      method: ['GET', 'POST', 'PUT'],
      path: '/sys/mfa/method/totp/:name/generate',
      operation: 'sys.mfa.totp.generate',
      handler: async (req, ctx) => {
        if (!ctx.principal) throw permissionDenied();
        ctx.audit.details['mfa_method'] = nameOf(req);
        return enrolReply(mfa, ctx.env, nameOf(req), ctx.principal.subject);
      },
    },
    {
      method: ['POST', 'PUT'],
      path: '/sys/mfa/method/totp/:name/admin-generate',
      operation: 'sys.mfa.totp.admin-generate',
      handler: async (req, ctx) => {
        const subject = parseInput(entityBody, req.body).entity_id;
        ctx.audit.details['mfa_method'] = nameOf(req);
        ctx.audit.details['entity_id'] = subject;
        return enrolReply(mfa, ctx.env, nameOf(req), subject);
      },
    },
    {
      method: ['POST', 'PUT', 'DELETE'],
      path: '/sys/mfa/method/totp/:name/admin-destroy',
      operation: 'sys.mfa.totp.admin-destroy',
      handler: async (req, ctx) => {
        const subject = parseInput(entityBody, req.body).entity_id;
        if (subject.trim() === '') throw invalidInput('entity_id is required');
        ctx.audit.details['entity_id'] = subject;
        await mfa.destroyEnrolment(ctx.env, nameOf(req), subject);
        return { status: 204 };
      },
    },
  ];
}
