/** Composition helper: the response-wrapping use cases over one Hsm, KeyStore, WrappingTokenStore and Clock. */
import type { Clock } from '../../core/ports/clock.js';
import type { Hsm } from '../../core/ports/hsm.js';
import type { KeyStore } from '../../core/ports/key-store.js';
import type { WrappingTokenStore } from '../../core/ports/secret-store.js';
import { WRAPPING_KEY_NAME, makeInternalSealer } from '../kv/internal-sealer.js';
import { makeLookupWrapping, type LookupWrapping } from './lookup.js';
import { makeRewrapWrapping, type RewrapWrapping } from './rewrap.js';
import { makeUnwrap, type Unwrap } from './unwrap.js';
import { makeWrapResponse, type WrapResponse } from './wrap-response.js';

export interface WrappingUseCases {
  readonly wrapResponse: WrapResponse;
  readonly unwrap: Unwrap;
  readonly lookupWrapping: LookupWrapping;
  readonly rewrapWrapping: RewrapWrapping;
}

export interface WrappingWiring {
  readonly hsm: Pick<Hsm, 'seal' | 'open' | 'randomBytes' | 'generateWrappedKey'>;
  readonly keys: Pick<KeyStore, 'getKey' | 'createKey' | 'getActiveRoot'>;
  readonly store: WrappingTokenStore;
  readonly clock: Clock;
}

export function makeWrappingUseCases(w: WrappingWiring): WrappingUseCases {
  const deps = { hsm: w.hsm, store: w.store, clock: w.clock, sealer: makeInternalSealer(w, WRAPPING_KEY_NAME) };
  const wrapResponse = makeWrapResponse(deps);
  return {
    wrapResponse,
    unwrap: makeUnwrap(deps),
    lookupWrapping: makeLookupWrapping(deps),
    rewrapWrapping: makeRewrapWrapping({ ...deps, wrapResponse }),
  };
}
