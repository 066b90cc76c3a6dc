/**
 * OIDC discovery for Keyward's own tokens, so relying parties can verify them with any JOSE library:
 * `GET /v1/identity/oidc/.well-known/keys` (JWKS, RFC 7517 §5) and
 * `GET /v1/identity/oidc/.well-known/openid-configuration` (OpenID Connect Discovery 1.0 §3), both
 * without a token and without the Vault envelope (as Vault serves them).
 *
 * The same document at the origin's `/.well-known/openid-configuration` (outside /v1, so not a
 * RouteSpec) is served by `wellKnownOpenidConfigurationHandler`: a plain node:http handler
 * `(req, res) => void` that express also accepts — the integrator mounts it with
 * `app.get('/.well-known/openid-configuration', handler)` or calls it from a bare http server.
 * Only public keys are ever published: the signing keys live in the HSM.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TokenService } from '../../../auth/token-service.js';
import type { Reply, RouteSpec } from '../../route-spec.js';

export interface OidcRouteDeps {
  readonly tokens: Pick<TokenService, 'jwks'>;
  /** The `iss` of Keyward's tokens (TokenServiceOptions.issuer), e.g. https://vault.example:8200. */
  readonly issuer: string;
}

export function openidConfiguration(issuer: string): Record<string, unknown> {
  const base = issuer.replace(/\/+$/, '');
  return {
    issuer,
    jwks_uri: `${base}/v1/identity/oidc/.well-known/keys`,
    response_types_supported: ['id_token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['ES256'],
  };
}

const json = (body: unknown): Reply => ({ status: 200, raw: { contentType: 'application/json', body: JSON.stringify(body) } });

export function oidcRoutes(deps: OidcRouteDeps): RouteSpec[] {
  return [
    {
      method: 'GET',
      path: '/identity/oidc/.well-known/keys',
      auth: 'none',
      operation: 'identity.oidc.keys',
      handler: async () => ({ ...json(await deps.tokens.jwks()), headers: { 'Cache-Control': 'public, max-age=60' } }),
    },
    {
      method: 'GET',
      path: '/identity/oidc/.well-known/openid-configuration',
      auth: 'none',
      operation: 'identity.oidc.discovery',
      handler: async () => json(openidConfiguration(deps.issuer)),
    },
  ];
}

/** node:http / express handler for `GET /.well-known/openid-configuration` at the origin root. */
export function wellKnownOpenidConfigurationHandler(deps: Pick<OidcRouteDeps, 'issuer'>): (req: IncomingMessage, res: ServerResponse) => void {
  const body = JSON.stringify(openidConfiguration(deps.issuer));
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'Content-Type': 'application/json', Allow: 'GET, HEAD' }).end(JSON.stringify({ errors: ['unsupported operation'] }));
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'public, max-age=300' });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}
