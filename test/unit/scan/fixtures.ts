/** Test credentials: built at run time so no real-looking secret sits in the repository verbatim. */
import crypto from 'node:crypto';
import { SignJWT, exportPKCS8, exportSPKI, generateKeyPair } from 'jose';
import { secretIdChecksum } from '../../../vault/src/auth/approle/secret-id-format.js';

const B62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const base62 = (n: number): string => Array.from(crypto.randomBytes(n), (b) => B62[b % 62]).join('');

export function secretId(): string {
  const head = `kwsid_${base62(32)}`;
  return head + secretIdChecksum(head);
}

/** Same shape, checksum off by one character. */
export function secretIdBadChecksum(): string {
  const good = secretId();
  const last = good.at(-1) ?? '0';
  return good.slice(0, -1) + (last === '0' ? '1' : '0');
}

export async function keywardToken(claims: { iss?: string; sub?: string; exp?: number; env?: string } = {}, alg: 'ES256' | 'RS256' = 'ES256'): Promise<string> {
  const { privateKey } = await generateKeyPair(alg);
  return new SignJWT({ policies: ['default'], env: claims.env ?? 'prod', meth: 'approle' })
    .setProtectedHeader({ alg, typ: 'JWT', kid: 'kw-signing-1' })
    .setIssuer(claims.iss ?? 'keyward')
    .setSubject(claims.sub ?? 'approle/prod/payments')
    .setAudience('keyward')
    .setIssuedAt()
    .setJti(crypto.randomUUID())
    .setExpirationTime(claims.exp ?? Math.floor(Date.now() / 1000) + 3600)
    .sign(privateKey);
}

export async function pemPair(): Promise<{ privatePem: string; publicPem: string }> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { privatePem: await exportPKCS8(privateKey), publicPem: await exportSPKI(publicKey) };
}

export const rsaPrivatePem = (): string =>
  crypto.generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();

export function awsPair(): { id: string; secret: string } {
  const up = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  const id = `AKIA${Array.from(crypto.randomBytes(16), (b) => up[b % up.length]).join('')}`;
  const secret = crypto.randomBytes(30).toString('base64').replace(/[+/]/g, 'x').slice(0, 40);
  return { id, secret };
}

export const githubToken = (): string => `ghp_${base62(36)}`;
export const slackToken = (): string => `xoxb-${crypto.randomInt(1e11, 1e12)}-${crypto.randomInt(1e12, 1e13)}-${base62(24)}`;
export const stripeKey = (): string => `sk_live_${base62(24)}`;

export async function gcpServiceAccountJson(): Promise<string> {
  const { privatePem } = await pemPair();
  return JSON.stringify({ type: 'service_account', project_id: 'p', private_key_id: crypto.randomBytes(20).toString('hex'), private_key: privatePem, client_email: 'x@p.iam.gserviceaccount.com' }, null, 2);
}

export async function wrappingToken(): Promise<string> {
  const { generateWrappingToken } = await import('../../../vault/src/usecases/wrapping/wrapping-token.js');
  return generateWrappingToken(async (n) => crypto.randomBytes(n));
}
