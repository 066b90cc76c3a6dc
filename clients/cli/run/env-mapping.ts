/**
 * How `keyward run` turns KV secrets into environment variables.
 *
 * Rule: for `--secret secret/payments/db` and field `password` the variable is
 * `PAYMENTS_DB_PASSWORD`:
 *   prefix = the path without the `secret/` mount, with `/`, `-` and `.` replaced by `_`, uppercased;
 *   name   = prefix + `_` + the field name (with `-` and `.` replaced by `_`), uppercased.
 * `--secret secret/x/y:PREFIX` replaces the prefix verbatim (`PREFIX_FIELD`); an empty override
 * (`secret/x/y:`) uses the bare field name. Any resulting name must match [A-Za-z_][A-Za-z0-9_]*.
 * Two fields that map to the same variable are an error, raised before anything is started -
 * silently picking one would hand a service the wrong credential.
 */
import { KeywardError } from '../../../vault/src/core/errors.js';
import { kvRelativePath } from '../../sdk/secrets.js';

export interface SecretSpec {
  /** The path as the user wrote it (key of loadSecrets' result). */
  readonly path: string;
  readonly prefix: string;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function defaultPrefix(path: string): string {
  return kvRelativePath(path).replace(/[/.-]/g, '_').toUpperCase();
}

/** Parse `secret/x/y` or `secret/x/y:PREFIX`. */
export function parseSecretSpec(spec: string): SecretSpec {
  const colon = spec.indexOf(':');
  const path = colon === -1 ? spec : spec.slice(0, colon);
  kvRelativePath(path); // validates
  if (colon === -1) return { path, prefix: defaultPrefix(path) };
  const prefix = spec.slice(colon + 1);
  if (prefix !== '' && !ENV_NAME.test(prefix)) throw new KeywardError('ERR_INVALID_INPUT', `invalid variable prefix in --secret ${spec}`);
  return { path, prefix };
}

export function envVarName(prefix: string, field: string): string {
  const f = field.replace(/[.-]/g, '_').toUpperCase();
  const name = prefix === '' ? f : `${prefix}_${f}`;
  if (!ENV_NAME.test(name)) throw new KeywardError('ERR_INVALID_INPUT', `secret field "${field}" does not make a valid variable name (${name})`);
  return name;
}

/** Map every field of every spec to its variable; throws ERR_CONFLICT on any collision. */
export function mapSecretsToEnv(specs: readonly SecretSpec[], values: Readonly<Record<string, Readonly<Record<string, string>>>>): Record<string, string> {
  const env: Record<string, string> = {};
  const origin = new Map<string, string>();
  for (const spec of specs) {
    const fields = values[spec.path];
    if (!fields) throw new KeywardError('ERR_NOT_FOUND', `no values for secret ${spec.path}`);
    for (const [field, value] of Object.entries(fields)) {
      const name = envVarName(spec.prefix, field);
      const from = `${spec.path}#${field}`;
      const prev = origin.get(name);
      if (prev !== undefined && prev !== from) throw new KeywardError('ERR_CONFLICT', `${prev} and ${from} both map to ${name}; use --secret PATH:PREFIX to rename one`);
      origin.set(name, from);
      env[name] = value;
    }
  }
  return env;
}
