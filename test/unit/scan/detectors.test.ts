import { describe, expect, it } from 'vitest';
import { detectAll, scanText } from '../../../clients/scan/scan-content.js';
import { fingerprintOf } from '../../../clients/scan/fingerprint.js';
import {
  awsPair,
  base62,
  gcpServiceAccountJson,
  githubToken,
  keywardToken,
  pemPair,
  rsaPrivatePem,
  secretId,
  secretIdBadChecksum,
  slackToken,
  stripeKey,
  wrappingToken,
} from './fixtures.js';

const rulesIn = async (text: string, file = 'f.txt', issuers?: string[]): Promise<string[]> =>
  (await detectAll(text, file, issuers ? { issuers } : {})).map((m) => m.rule);

/** A truncated fake PEM block, assembled at run time so no private-key marker sits in the repo. */
const fakePem = (label: string, body: string): string => ['-----BEGIN', ` ${label}-----\n${body}\n-----END ${label}-----\n`].join('');

describe('true positives: each rule finds its credential', () => {
  const cases: Array<[string, () => Promise<string> | string, string, string?]> = [
    ['Keyward secret ID', () => `role_secret=${secretId()}`, 'keyward-secret-id'],
    ['Keyward wrapping token', async () => `wrapped: ${await wrappingToken()}`, 'keyward-wrapping-token'],
    ['Keyward token', async () => `VAULT_TOKEN=${await keywardToken()}`, 'keyward-token'],
    ['PEM PKCS#8 private key', async () => (await pemPair()).privatePem, 'pem-private-key'],
    ['PEM RSA private key', () => rsaPrivatePem(), 'pem-private-key'],
    ['PEM encrypted private key', () => fakePem('ENCRYPTED PRIVATE KEY', 'MIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkqhkiG9w0BBQwwHAQI'), 'pem-private-key'],
    ['PEM OpenSSH private key', () => fakePem('OPENSSH PRIVATE KEY', 'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ'), 'pem-private-key'],
    ['AWS access key id', () => `aws_access_key_id = ${awsPair().id}`, 'secretlint/aws/AWSAccessKeyID'],
    ['AWS secret access key', () => `AWS_SECRET_ACCESS_KEY="${awsPair().secret}"`, 'secretlint/aws/AWSSecretAccessKey'],
    ['GitHub token', () => `token: ${githubToken()}`, 'secretlint/github/GITHUB_TOKEN'],
    ['Slack token', () => `SLACK=${slackToken()}`, 'secretlint/slack/SLACK_TOKEN'],
    ['Stripe key', () => `STRIPE_KEY=${stripeKey()}`, 'stripe-api-key'],
    ['GCP service-account JSON', () => gcpServiceAccountJson(), 'secretlint/gcp/PrivateKeyJSON', 'sa.json'],
  ];
  it.each(cases)('when the text holds a %s, then the rule fires', async (_name, make, rule, file) => {
    expect(await rulesIn(await make(), file)).toContain(rule);
  });

  it('when an AWS key id and secret sit together, then both halves are reported', async () => {
    const { id, secret } = awsPair();
    const rules = await rulesIn(`[default]\naws_access_key_id = ${id}\naws_secret_access_key = ${secret}\n`);
    expect(rules).toEqual(expect.arrayContaining(['secretlint/aws/AWSAccessKeyID', 'secretlint/aws/AWSSecretAccessKey']));
  });
});

describe('near misses are not reported', () => {
  const cases: Array<[string, () => Promise<string> | string, string[]?]> = [
    ['a secret ID with a wrong checksum', () => secretIdBadChecksum()],
    ['a secret ID with the wrong prefix', () => secretId().replace('kwsid_', 'kwsjd_')],
    ['a secret ID one character short', () => secretId().slice(0, -1)],
    ['random base62 strings', () => Array.from({ length: 50 }, () => base62(44)).join('\n')],
    ['random base62 after the prefix', () => Array.from({ length: 50 }, () => `kwsid_${base62(38)}`).join('\n')],
    ['a JWT from another issuer', async () => keywardToken({ iss: 'https://accounts.example.com' })],
    ['an RS256 JWT with the right issuer', async () => keywardToken({}, 'RS256')],
    ['a public key PEM', async () => (await pemPair()).publicPem],
    ['a too-short kww_ string', () => 'kww_short'],
    ['a wrapping token with a wrong checksum', async () => { const t = await wrappingToken(); return t.slice(0, -1) + (t.endsWith('0') ? '1' : '0'); }],
    ['random base62 after the kww_ prefix', () => Array.from({ length: 50 }, () => `kww_${base62(49)}`).join('\n')],
    ['the word PRIVATE KEY in prose', () => 'rotate the PRIVATE KEY every year'],
  ];
  it.each(cases)('when the text holds %s, then nothing is found', async (_name, make) => {
    expect(await rulesIn(await make())).toEqual([]);
  });

  it('when random base62 carries the prefix, then at most a vanishing fraction passes the checksum', async () => {
    // 1000 tries × 1/62^6 chance each: a hit here means the checksum is not checked.
    const text = Array.from({ length: 1000 }, () => `kwsid_${base62(38)}`).join('\n');
    expect(await rulesIn(text)).toEqual([]);
  });
});

describe('findings never carry the secret', () => {
  it('when a token is found, then the finding has exp, sub, a fingerprint and a 6-char prefix only', async () => {
    const exp = Math.floor(Date.now() / 1000) + 600;
    const token = await keywardToken({ sub: 'approle/prod/billing', exp });
    const text = `line one\n  Authorization: Bearer ${token}\n`;
    const [f] = await scanText(text, { file: 'a.log', source: 'worktree' });
    expect(f).toMatchObject({ rule: 'keyward-token', file: 'a.log', line: 2, column: 25, redacted: `${token.slice(0, 6)}…`, fingerprint: fingerprintOf(token) });
    expect(f?.meta).toEqual({ exp: new Date(exp * 1000).toISOString(), sub: 'approle/prod/billing', env: 'prod' });
    expect(JSON.stringify(f)).not.toContain(token.slice(10, 40));
  });

  it('when --issuer names another issuer, then only tokens of that issuer match', async () => {
    const token = await keywardToken({ iss: 'https://vault.internal:8200' });
    expect(await rulesIn(token)).toEqual([]);
    expect(await rulesIn(token, 'f.txt', ['https://vault.internal:8200'])).toEqual(['keyward-token']);
  });

  it('when a provider rule reports a secret, then the location points at the secret itself', async () => {
    const { secret } = awsPair();
    const [f] = await scanText(`x\nAWS_SECRET_ACCESS_KEY="${secret}"\n`, { file: 'e', source: 'worktree' });
    expect(f).toMatchObject({ line: 2, column: 24, fingerprint: fingerprintOf(secret) });
  });

  it('when a PEM key is found, then secretlint does not report it a second time', async () => {
    const rules = await rulesIn(rsaPrivatePem());
    expect(rules).toEqual(['pem-private-key']);
  });

  it('when asked to keep Keyward secrets for revocation, then only Keyward credentials are kept', async () => {
    const sid = secretId();
    const revocable = new Map();
    await scanText(`${sid}\n${githubToken()}\n`, { file: 'x', source: 'worktree' }, {}, revocable);
    expect([...revocable.values()]).toEqual([{ kind: 'secret-id', secret: sid }]);
  });
});
