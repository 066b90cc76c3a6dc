/** The rule catalogue: Keyward's own rules and the provider rules, for SARIF `tool.driver.rules`. */
import { SECRET_ID_RULE } from './detectors/keyward-secret-id.js';
import { TOKEN_RULE } from './detectors/keyward-token.js';
import { WRAPPING_TOKEN_RULE } from './detectors/keyward-wrapping-token.js';
import { PEM_RULE } from './detectors/pem-private-key.js';
import { STRIPE_RULE, providerRuleInfo } from './detectors/provider-rules.js';
import type { RuleInfo } from './types.js';

export const BUILTIN_RULES: readonly RuleInfo[] = [SECRET_ID_RULE, WRAPPING_TOKEN_RULE, TOKEN_RULE, PEM_RULE, STRIPE_RULE];

export function ruleInfo(id: string): RuleInfo {
  return BUILTIN_RULES.find((r) => r.id === id) ?? providerRuleInfo(id);
}
