/**
 * Attribute templates and labels for every object Keyward creates in the token (DESIGN.md §3).
 *
 * Invariants:
 * - Root KEKs: token, private, sensitive, never extractable, not modifiable, WRAP/UNWRAP only.
 * - Key versions: session objects, always sensitive (the host never reads a key-version value).
 *   Loaded for seal/open they are also non-extractable and ENCRYPT/DECRYPT only; only the short-
 *   lived objects of generate/rewrap are extractable, because C_WrapKey requires it.
 * - CKA_WRAP_WITH_TRUSTED is not set: see NOTES.md (SoftHSM can only make SO-owned *public*
 *   objects trusted, which would store the root unencrypted in the token dir).
 * - Signing and MAC private keys: token, private, sensitive, non-extractable.
 */
import pkcs11js from 'pkcs11js';
import type { RootKeyRef } from '../../core/ports/hsm.js';

const P = pkcs11js;
type Template = pkcs11js.Template;

export const rootLabel = (root: RootKeyRef): string => `keyward-root-${root.env}-t${root.term}`;
export const rootId = (root: RootKeyRef): Buffer => Buffer.from(`root:${root.env}:${root.term}`);

/** DER OID 1.2.840.10045.3.1.7 (P-256) for CKA_EC_PARAMS. */
export const OID_P256 = Buffer.from('06082a8648ce3d030107', 'hex');

export const findRootTemplate = (root: RootKeyRef): Template => [
  { type: P.CKA_CLASS, value: P.CKO_SECRET_KEY },
  { type: P.CKA_TOKEN, value: true },
  { type: P.CKA_ID, value: rootId(root) },
  { type: P.CKA_LABEL, value: rootLabel(root) },
];

export const rootKeyTemplate = (root: RootKeyRef): Template => [
  { type: P.CKA_CLASS, value: P.CKO_SECRET_KEY },
  { type: P.CKA_KEY_TYPE, value: P.CKK_AES },
  { type: P.CKA_VALUE_LEN, value: 32 },
  { type: P.CKA_TOKEN, value: true },
  { type: P.CKA_PRIVATE, value: true },
  { type: P.CKA_SENSITIVE, value: true },
  { type: P.CKA_EXTRACTABLE, value: false },
  // Blocks later attribute changes and C_CopyObject into a weaker object (pitfall 8).
  { type: P.CKA_MODIFIABLE, value: false },
  { type: P.CKA_WRAP, value: true },
  { type: P.CKA_UNWRAP, value: true },
  { type: P.CKA_ENCRYPT, value: false },
  { type: P.CKA_DECRYPT, value: false },
  { type: P.CKA_SIGN, value: false },
  { type: P.CKA_VERIFY, value: false },
  { type: P.CKA_DERIVE, value: false },
  { type: P.CKA_LABEL, value: rootLabel(root) },
  { type: P.CKA_ID, value: rootId(root) },
];

const keyVersionBase = (extractable: boolean, usable: boolean): Template => [
  { type: P.CKA_CLASS, value: P.CKO_SECRET_KEY },
  { type: P.CKA_KEY_TYPE, value: P.CKK_AES },
  { type: P.CKA_TOKEN, value: false },
  { type: P.CKA_PRIVATE, value: true },
  { type: P.CKA_SENSITIVE, value: true },
  { type: P.CKA_EXTRACTABLE, value: extractable },
  { type: P.CKA_ENCRYPT, value: usable },
  { type: P.CKA_DECRYPT, value: usable },
  { type: P.CKA_WRAP, value: false },
  { type: P.CKA_UNWRAP, value: false },
  { type: P.CKA_SIGN, value: false },
  { type: P.CKA_VERIFY, value: false },
  { type: P.CKA_DERIVE, value: false },
];

/** A new key version, generated in the token; extractable only so the root can wrap it. */
export const newKeyVersionTemplate = (): Template => [...keyVersionBase(true, true), { type: P.CKA_VALUE_LEN, value: 32 }];

/** A key version loaded for seal/open: cannot be wrapped out or read. */
export const loadedKeyVersionTemplate = (): Template => keyVersionBase(false, true);

/** A key version unwrapped only to be wrapped again under another root; it can do nothing else. */
export const rewrapKeyVersionTemplate = (): Template => keyVersionBase(true, false);

export const findByLabelTemplate = (label: string, cls: number): Template => [
  { type: P.CKA_CLASS, value: cls },
  { type: P.CKA_TOKEN, value: true },
  { type: P.CKA_LABEL, value: label },
];

export const findAllByLabelTemplate = (label: string): Template => [
  { type: P.CKA_TOKEN, value: true },
  { type: P.CKA_LABEL, value: label },
];

export const ecPublicTemplate = (label: string): Template => [
  { type: P.CKA_TOKEN, value: true },
  { type: P.CKA_PRIVATE, value: false },
  { type: P.CKA_VERIFY, value: true },
  { type: P.CKA_EC_PARAMS, value: OID_P256 },
  { type: P.CKA_LABEL, value: label },
  { type: P.CKA_ID, value: Buffer.from(`sig:${label}`) },
];

export const ecPrivateTemplate = (label: string): Template => [
  { type: P.CKA_TOKEN, value: true },
  { type: P.CKA_PRIVATE, value: true },
  { type: P.CKA_SENSITIVE, value: true },
  { type: P.CKA_EXTRACTABLE, value: false },
  { type: P.CKA_SIGN, value: true },
  { type: P.CKA_DERIVE, value: false },
  { type: P.CKA_LABEL, value: label },
  { type: P.CKA_ID, value: Buffer.from(`sig:${label}`) },
];

export const macKeyTemplate = (label: string): Template => [
  { type: P.CKA_CLASS, value: P.CKO_SECRET_KEY },
  { type: P.CKA_KEY_TYPE, value: P.CKK_GENERIC_SECRET },
  // SoftHSM requires HMAC-SHA256 keys of at least 32 bytes.
  { type: P.CKA_VALUE_LEN, value: 32 },
  { type: P.CKA_TOKEN, value: true },
  { type: P.CKA_PRIVATE, value: true },
  { type: P.CKA_SENSITIVE, value: true },
  { type: P.CKA_EXTRACTABLE, value: false },
  { type: P.CKA_SIGN, value: true },
  { type: P.CKA_VERIFY, value: true },
  { type: P.CKA_ENCRYPT, value: false },
  { type: P.CKA_DECRYPT, value: false },
  { type: P.CKA_WRAP, value: false },
  { type: P.CKA_UNWRAP, value: false },
  { type: P.CKA_DERIVE, value: false },
  { type: P.CKA_LABEL, value: label },
  { type: P.CKA_ID, value: Buffer.from(`mac:${label}`) },
];
