/**
 * HclDecoder adapter over js-hcl-parser (hashicorp/hcl v1, the parser Vault itself uses for policies,
 * compiled to JS). The library signals a syntax error by returning a message instead of JSON text, so
 * "the output is not a JSON object" is the one error test here — never the message's wording.
 *
 * Invariant: `decode` returns a plain object or throws; the policy module turns the throw into a 400.
 */
import hcl from 'js-hcl-parser';
import type { HclDecoder } from '../../authz/policy.js';

export class JsHclDecoder implements HclDecoder {
  decode(text: string): unknown {
    const out = hcl.parse(text);
    let doc: unknown;
    try {
      doc = JSON.parse(out);
    } catch {
      // Not JSON: the parser's error text (line/column), which is about policy text, not secrets.
      throw new Error(typeof out === 'string' ? out.slice(0, 300) : 'unparseable HCL');
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error('HCL document is not an object');
    return doc;
  }
}

export const jsHclDecoder: HclDecoder = new JsHclDecoder();
