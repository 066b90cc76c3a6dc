/**
 * The process-wide PKCS#11 library: load + C_Initialize once per module path, shared by every
 * Pkcs11Hsm in the process, with a reference count.
 *
 * Invariants (PKCS11-NOTES.md pitfalls 1, 2, 7):
 * - C_Initialize always gets CKF_OS_LOCKING_OK: the *Async calls enter the library from libuv
 *   threads, and SoftHSM disables its mutexes when initialised with NULL args.
 * - CKR_CRYPTOKI_ALREADY_INITIALIZED is success; we then do not own the lifecycle and never finalise.
 * - C_Finalize runs only when this module initialised the library and its last user releases it,
 *   because finalising kills the sessions of every other user in the process.
 */
import pkcs11js from 'pkcs11js';
import { hsmUnavailable } from '../../core/errors.js';
import { ckrOf } from './pkcs11-errors.js';

export type Pkcs11 = pkcs11js.PKCS11;

interface LoadedLibrary {
  readonly pkcs11: Pkcs11;
  readonly initialisedHere: boolean;
  users: number;
}

const libraries = new Map<string, LoadedLibrary>();

export interface LibraryLease {
  readonly pkcs11: Pkcs11;
  release(): void;
}

/**
 * Acquire the library at `modulePath`. `softhsmConf`, if given, is exported as SOFTHSM2_CONF just
 * before the first C_Initialize: SoftHSM reads its configuration only then and only from the
 * environment (there is no init argument for it), so this is the one place the adapter touches
 * process.env. A second caller with another conf in the same process cannot change it: one token
 * directory per process (tests use one throwaway token per forked test file).
 */
export function acquireLibrary(modulePath: string, softhsmConf?: string): LibraryLease {
  let lib = libraries.get(modulePath);
  if (!lib) {
    if (softhsmConf !== undefined) process.env.SOFTHSM2_CONF = softhsmConf;
    const pkcs11 = new pkcs11js.PKCS11();
    try {
      pkcs11.load(modulePath);
    } catch (e) {
      throw hsmUnavailable('PKCS#11 module could not be loaded', e);
    }
    let initialisedHere = true;
    try {
      pkcs11.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
    } catch (e) {
      if (ckrOf(e) !== pkcs11js.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
        safeClose(pkcs11);
        throw hsmUnavailable('PKCS#11 module could not be initialised', e);
      }
      initialisedHere = false;
    }
    lib = { pkcs11, initialisedHere, users: 0 };
    libraries.set(modulePath, lib);
  }
  lib.users += 1;
  const entry = lib;
  let released = false;
  return {
    pkcs11: entry.pkcs11,
    release(): void {
      if (released) return;
      released = true;
      entry.users -= 1;
      if (entry.users > 0) return;
      libraries.delete(modulePath);
      if (entry.initialisedHere) {
        try {
          entry.pkcs11.C_Finalize();
        } catch {
          // Already finalised or the device is gone: nothing left to release.
        }
      }
      safeClose(entry.pkcs11);
    },
  };
}

function safeClose(pkcs11: Pkcs11): void {
  try {
    pkcs11.close();
  } catch {
    // dlclose failures leave nothing for us to clean up.
  }
}
