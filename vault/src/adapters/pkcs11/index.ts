/** Public surface of the PKCS#11 adapter: the composition root imports only this. */
export { Pkcs11Hsm, openPkcs11Hsm, type Pkcs11HsmOptions } from './pkcs11-hsm.js';
