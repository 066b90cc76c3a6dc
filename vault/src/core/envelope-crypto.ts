/**
 * The two-layer seal and open of one transit message (DESIGN.md §3): the DEK sealed in the HSM under a
 * key version, the data sealed in node:crypto under the DEK, both framed by envelope.ts.
 *
 * Invariants:
 * - `sealMessage` consumes the DEK it is given: the buffer is zeroed before it returns or throws.
 * - `openMessage` zeroes the DEK it unseals as soon as the data layer is done with it.
 * - The HSM is called exactly once per message (one seal or one open).
 * - A sealed DEK of any length other than 60 bytes from the HSM is an internal error, never written out.
 */
import type { Hsm, WrappedKeyRef } from './ports/hsm.js';
import { KeywardError, decryptionFailed } from './errors.js';
import { dataAad, dekAad, type DekBinding } from './aad.js';
import { openData, sealDataInto } from './aead.js';
import { ENVELOPE_FORMAT_V1, ENVELOPE_OVERHEAD_BYTES, SEALED_DEK_BYTES, encodeEnvelope, type Envelope } from './envelope.js';

export async function sealMessage(
  hsm: Pick<Hsm, 'seal'>,
  key: WrappedKeyRef,
  binding: DekBinding,
  dek: Buffer,
  plaintext: Uint8Array,
  associatedData: Uint8Array | undefined,
): Promise<string> {
  try {
    const sealedDek = await hsm.seal(key, dek, dekAad(binding));
    if (sealedDek.length !== SEALED_DEK_BYTES) throw new KeywardError('ERR_INTERNAL', 'HSM returned a sealed DEK of unexpected length');
    // The envelope (envelope.ts layout) is written in one buffer: format byte, sealed DEK, then the
    // data layer's iv || ciphertext || tag in place.
    const bytes = Buffer.allocUnsafe(ENVELOPE_OVERHEAD_BYTES + plaintext.length);
    bytes[0] = ENVELOPE_FORMAT_V1;
    bytes.set(sealedDek, 1);
    sealDataInto(dek, plaintext, dataAad(ENVELOPE_FORMAT_V1, sealedDek, associatedData), bytes, 1 + SEALED_DEK_BYTES);
    return encodeEnvelope(binding.version, bytes);
  } finally {
    dek.fill(0);
  }
}

export async function openMessage(
  hsm: Pick<Hsm, 'open'>,
  key: WrappedKeyRef,
  binding: DekBinding,
  envelope: Envelope,
  associatedData: Uint8Array | undefined,
): Promise<Buffer> {
  if (envelope.keyVersion !== binding.version) throw decryptionFailed();
  const dek = await hsm.open(key, envelope.sealedDek, dekAad(binding));
  try {
    return openData(
      dek,
      { iv: envelope.dataIv, ciphertext: envelope.dataCiphertext, tag: envelope.dataTag },
      dataAad(envelope.formatVersion, envelope.sealedDek, associatedData),
    );
  } finally {
    dek.fill(0);
  }
}
