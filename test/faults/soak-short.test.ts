/**
 * The soak (test/soak/run.ts) for CI: ~20 s of mixed traffic against a child-process dev server,
 * then zero failed decryptions, no lost secrets, a verifying audit chain and no failed operations.
 */
import { describe, expect, it } from 'vitest';
import { runSoak } from '../soak/run.js';

describe('short soak', () => {
  it('when mixed traffic runs for 20 s, then nothing fails, nothing is lost and the audit chain verifies', async () => {
    const result = await runSoak({ seconds: 20, sampleEveryMs: 5_000 });
    expect(result.failures).toEqual([]);
    expect(result.failedDecryptions).toBe(0);
    expect(result.lostSecrets).toBe(0);
    expect(result.auditOk).toBe(true);
    expect(result.ops['encrypt'] ?? 0).toBeGreaterThan(0);
    expect(result.rotations).toBeGreaterThan(0);
    expect(result.ok).toBe(true);
  }, 90_000);
});
