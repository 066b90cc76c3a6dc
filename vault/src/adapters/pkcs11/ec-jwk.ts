/**
 * CKA_EC_POINT (P-256) → public JWK. SoftHSM returns the point as a DER OCTET STRING wrapping the
 * uncompressed SEC1 point: 04 41 | 04 X(32) Y(32) (PKCS#11 v2.40 §2.3.3, SEC1 §2.3.3).
 */
import { KeywardError } from '../../core/errors.js';
import type { PublicJwk } from '../../core/ports/hsm.js';

export function p256PointToJwk(ecPoint: Buffer): PublicJwk {
  let point = ecPoint;
  if (point.length === 67 && point[0] === 0x04 && point[1] === 0x41) point = point.subarray(2);
  if (point.length !== 65 || point[0] !== 0x04) {
    throw new KeywardError('ERR_INTERNAL', 'unexpected EC point encoding from the HSM');
  }
  return {
    kty: 'EC',
    crv: 'P-256',
    x: point.subarray(1, 33).toString('base64url'),
    y: point.subarray(33, 65).toString('base64url'),
  };
}
