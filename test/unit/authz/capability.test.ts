import { describe, expect, it } from 'vitest';
import { type OperationCapability, type RequestMethod, capabilityForRequest, sortCapabilities } from '../../../vault/src/authz/capability.js';

describe('capabilityForRequest', () => {
  const rows: Array<[RequestMethod, { list?: boolean; exists?: boolean }, OperationCapability]> = [
    ['GET', {}, 'read'],
    ['GET', { list: true }, 'list'],
    ['GET', { list: false }, 'read'],
    ['LIST', {}, 'list'],
    ['POST', { exists: true }, 'update'],
    ['POST', { exists: false }, 'create'],
    ['PUT', { exists: true }, 'update'],
    ['PUT', { exists: false }, 'create'],
    ['POST', {}, 'update'], // no existence check: Vault treats the write as an update
    ['DELETE', {}, 'delete'],
    ['PATCH', {}, 'patch'],
  ];
  it.each(rows)('%s %j → %s', (method, opts, expected) => {
    expect(capabilityForRequest(method, opts)).toBe(expected);
  });
  it('sortCapabilities dedupes into canonical order', () => {
    expect(sortCapabilities(['list', 'read', 'create', 'read'])).toEqual(['create', 'read', 'list']);
  });
});
