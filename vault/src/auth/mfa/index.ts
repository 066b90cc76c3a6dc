/** MFA module entry: TOTP methods/enrolment (MfaService), the pipeline verifier, the default rule. */
export { MfaService, parseTotpConfig, type TotpConfig, type TotpConfigInput, type Enrolment, type MfaDeps } from './mfa-service.js';
export { TotpMfaVerifier } from './mfa-verifier.js';
export { parseMfaHeader } from './mfa-header.js';
export { criticalPathMfaPolicy, CRITICAL_PATH_RULES, type CriticalPathMfaPolicy, type CriticalPathRule } from './critical-paths.js';
export { TOTP_SEAL_KEY } from './totp-seal.js';
