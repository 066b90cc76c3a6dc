/**
 * Dev-mode TLS material: a local CA and a server certificate it signs, made with node-forge and kept
 * in `<dir>` so a restarted dev vault keeps the same trust root (clients point VAULT_CACERT at
 * `<dir>/ca.pem`).
 *
 * Invariants:
 * - Private keys are written with mode 0600 (atomically: temp file, then rename) and are never
 *   logged or put into error messages.
 * - Existing material is reused when it is coherent: the server cert is signed by the CA, matches
 *   its key, covers every requested name and stays valid for more than 30 days. Otherwise the
 *   server cert is re-issued under the same CA; the CA itself is replaced only when it is missing,
 *   unreadable or about to expire, since replacing it breaks every client that trusts it.
 * - Keys are RSA 2048: forge cannot sign certificates with EC keys (P-256 was preferred).
 */
import { X509Certificate, createPrivateKey, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import forge from 'node-forge';
import { KeywardError } from '../../core/errors.js';

export interface DevTls {
  readonly caPath: string;
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
}

export interface DevTlsOptions {
  /** Names the server cert must cover besides localhost, 127.0.0.1 and ::1 (DNS names or IPs). */
  readonly extraHostnames?: readonly string[];
  /** Injected for tests; defaults to the system clock. */
  readonly now?: () => Date;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const CA_VALIDITY_DAYS = 5 * 365;
const SERVER_VALIDITY_DAYS = 365;
const RENEW_BEFORE_DAYS = 30;
/** Certificates start a little in the past so a client clock slightly behind still accepts them. */
const BACKDATE_MS = 5 * 60 * 1000;
const DEFAULT_NAMES = ['localhost', '127.0.0.1', '::1'] as const;
const HOSTNAME = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

interface Issued {
  readonly certPem: string;
  readonly keyPem: string;
}

export function ensureDevTls(dir: string, options: DevTlsOptions = {}): DevTls {
  const now = options.now ?? ((): Date => new Date());
  const names = requestedNames(options.extraHostnames ?? []);
  const paths = {
    ca: join(dir, 'ca.pem'),
    caKey: join(dir, 'ca-key.pem'),
    server: join(dir, 'server.pem'),
    serverKey: join(dir, 'server-key.pem'),
  };
  mkdirSync(dir, { recursive: true, mode: 0o700 });

  let ca = readUsableCa(paths.ca, paths.caKey, now());
  if (ca === null) {
    ca = issueCa(now());
    writeAtomic(paths.caKey, ca.keyPem, 0o600);
    writeAtomic(paths.ca, ca.certPem, 0o644);
  }
  let server = readUsableServer(paths.server, paths.serverKey, ca.certPem, names, now());
  if (server === null) {
    server = issueServer(ca, names, now());
    writeAtomic(paths.serverKey, server.keyPem, 0o600);
    writeAtomic(paths.server, server.certPem, 0o644);
  }
  // Tighten modes even when files were reused: an operator may have copied them loosely.
  chmodSync(paths.caKey, 0o600);
  chmodSync(paths.serverKey, 0o600);
  return { caPath: paths.ca, caPem: ca.certPem, certPem: server.certPem, keyPem: server.keyPem };
}

function requestedNames(extra: readonly string[]): string[] {
  const names: string[] = [...DEFAULT_NAMES];
  for (const name of extra) {
    const normalised = canonicalName(name);
    if (isIP(normalised) === 0 && !HOSTNAME.test(normalised)) {
      throw new KeywardError('ERR_INVALID_INPUT', `invalid TLS hostname: ${JSON.stringify(name)}`);
    }
    if (!names.includes(normalised)) names.push(normalised);
  }
  return names;
}

function readUsableCa(certPath: string, keyPath: string, now: Date): Issued | null {
  const pair = readPair(certPath, keyPath);
  if (pair === null) return null;
  const cert = pair.cert;
  if (!cert.ca || !validFor(cert, now, RENEW_BEFORE_DAYS)) return null;
  return { certPem: pair.certPem, keyPem: pair.keyPem };
}

function readUsableServer(certPath: string, keyPath: string, caPem: string, names: readonly string[], now: Date): Issued | null {
  const pair = readPair(certPath, keyPath);
  if (pair === null) return null;
  const cert = pair.cert;
  const ca = new X509Certificate(caPem);
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey) || !validFor(cert, now, RENEW_BEFORE_DAYS)) return null;
  const covered = sanEntries(cert);
  if (!names.every((name) => covered.has(canonicalName(name)))) return null;
  return { certPem: pair.certPem, keyPem: pair.keyPem };
}

/** Reads a cert and its key; null when either is missing, unparsable or they do not match. */
function readPair(certPath: string, keyPath: string): { cert: X509Certificate; certPem: string; keyPem: string } | null {
  if (!existsSync(certPath) || !existsSync(keyPath)) return null;
  try {
    const certPem = readFileSync(certPath, 'utf8');
    const keyPem = readFileSync(keyPath, 'utf8');
    const cert = new X509Certificate(certPem);
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) return null;
    return { cert, certPem, keyPem };
  } catch {
    // Corrupt material is replaced, not reported: this is dev mode and the files are ours.
    return null;
  }
}

function validFor(cert: X509Certificate, now: Date, days: number): boolean {
  const from = Date.parse(cert.validFrom);
  const to = Date.parse(cert.validTo);
  return from <= now.getTime() && to - now.getTime() > days * DAY_MS;
}

/** SAN entries as plain lower-case names/IPs, e.g. "DNS:localhost, IP Address:::1" → {localhost, ::1}. */
function sanEntries(cert: X509Certificate): Set<string> {
  const entries = new Set<string>();
  for (const part of (cert.subjectAltName ?? '').split(', ')) {
    const colon = part.indexOf(':');
    if (colon > 0) entries.add(canonicalName(part.slice(colon + 1)));
  }
  return entries;
}

/** Lower-case names, compressed IPv6 (Node prints SAN `::1` as `0:0:0:0:0:0:0:1`). */
function canonicalName(name: string): string {
  const lower = name.trim().toLowerCase();
  return isIP(lower) === 6 ? new URL(`http://[${lower}]/`).hostname.slice(1, -1) : lower;
}

function issueCa(now: Date): Issued {
  const keys = forge.pki.rsa.generateKeyPair({ bits: 2048, e: 0x10001 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serialNumber();
  cert.validity.notBefore = new Date(now.getTime() - BACKDATE_MS);
  cert.validity.notAfter = new Date(now.getTime() + CA_VALIDITY_DAYS * DAY_MS);
  const subject = [
    { name: 'commonName', value: 'Keyward Dev CA' },
    { name: 'organizationName', value: 'Keyward (development only)' },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: forge.pki.privateKeyToPem(keys.privateKey) };
}

function issueServer(ca: Issued, names: readonly string[], now: Date): Issued {
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const caKey = forge.pki.privateKeyFromPem(ca.keyPem);
  const keys = forge.pki.rsa.generateKeyPair({ bits: 2048, e: 0x10001 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serialNumber();
  cert.validity.notBefore = new Date(now.getTime() - BACKDATE_MS);
  cert.validity.notAfter = new Date(now.getTime() + SERVER_VALIDITY_DAYS * DAY_MS);
  cert.setSubject([{ name: 'commonName', value: 'localhost' }]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: names.map((name) => (isIP(name) === 0 ? { type: 2, value: name } : { type: 7, ip: name })),
    },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: forge.pki.privateKeyToPem(keys.privateKey) };
}

/** A positive 128-bit serial (RFC 5280 §4.1.2.2: positive, at most 20 octets). */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] as number) & 0x7f | 0x01;
  return bytes.toString('hex');
}

function writeAtomic(path: string, contents: string, mode: number): void {
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(temp, contents, { mode, flag: 'wx' });
  renameSync(temp, path);
}
