/**
 * A fake managed-identity endpoint on 127.0.0.1, speaking the App Service / Functions protocol (api-version
 * 2019-08-01: GET IDENTITY_ENDPOINT?resource=…&client_id=…, header X-IDENTITY-HEADER) that @azure/identity's
 * ManagedIdentityCredential uses when IDENTITY_ENDPOINT and IDENTITY_HEADER are set, as they are in Azure.
 * Tokens are JWTs shaped like Entra ID's (issuer https://sts.windows.net/<tenant>/, audience = the resource asked
 * for, iat/nbf/exp): Azurite's `--oauth basic` checks exactly those claims, not the signature.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';

export const FAKE_TENANT_ID = '00000000-0000-0000-0000-00000000fe01';

/** What the endpoint does for a client id: issue a proper token, refuse, or issue one for another audience. */
export type IdentityBehaviour = 'issue' | 'refuse' | 'wrong-audience';

export interface IdentityRequest {
  resource: string | null;
  clientId: string | null;
  apiVersion: string | null;
  /** Whether X-IDENTITY-HEADER carried the secret the app was given. */
  headerOk: boolean;
  outcome: IdentityBehaviour | 'unauthorized';
}

export interface FakeIdentity {
  /** The settings the platform sets for the app: IDENTITY_ENDPOINT and IDENTITY_HEADER. */
  env: { IDENTITY_ENDPOINT: string; IDENTITY_HEADER: string };
  requests: IdentityRequest[];
  /** Every access token issued so far (tests check none leaks into a body or log). */
  issued: string[];
  /** The message of a refusal; distinctive, so a test can check the app never repeats it. */
  refusalMessage: string;
  close(): Promise<void>;
}

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** `behaviour` maps client ids to what happens; anything else gets a token. */
export async function startFakeIdentity(
  options: { behaviour?: Record<string, IdentityBehaviour>; onRequest?: (request: IdentityRequest) => void } = {},
): Promise<FakeIdentity> {
  const identityHeader = `fake-identity-header-${randomBytes(6).toString('hex')}`;
  const signingKey = randomBytes(32); // signs nothing anyone verifies; makes the token look whole
  const refusalMessage = `fake identity endpoint refused: correlation ${randomUUID()}`;
  const requests: IdentityRequest[] = [];
  const issued: string[] = [];

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://identity');
    const clientId = url.searchParams.get('client_id');
    const resource = url.searchParams.get('resource');
    const headerOk = req.headers['x-identity-header'] === identityHeader;
    const asked = options.behaviour?.[clientId ?? ''] ?? 'issue';
    let outcome: IdentityRequest['outcome'] = headerOk ? asked : 'unauthorized';
    if (outcome === 'issue' && !resource) outcome = 'refuse';
    const apiVersion = url.searchParams.get('api-version');
    const request: IdentityRequest = { resource, clientId, apiVersion, headerOk, outcome };
    requests.push(request);
    options.onRequest?.(request);
    if (outcome === 'unauthorized' || outcome === 'refuse') {
      // App Service's error body shape. 400/401 are not retried by the credential, so a refusal answers at once.
      const status = outcome === 'unauthorized' ? 401 : 400;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ statusCode: status, message: refusalMessage, correlationId: randomUUID() }));
      return;
    }
    const now = Math.floor(Date.now() / 1000);
    const expiresOn = now + 3600;
    const audience = outcome === 'wrong-audience' ? 'https://vault.azure.net' : resource!.replace(/\/\.default$/, '');
    const header = base64url({ typ: 'JWT', alg: 'HS256' });
    const payload = base64url({
      aud: audience,
      iss: `https://sts.windows.net/${FAKE_TENANT_ID}/`,
      iat: now - 5,
      nbf: now - 5,
      exp: expiresOn,
      appid: clientId ?? 'system-assigned',
      oid: clientId ?? 'system-assigned',
      sub: clientId ?? 'system-assigned',
      tid: FAKE_TENANT_ID,
      idtyp: 'app',
      uti: randomBytes(8).toString('base64url'),
      ver: '1.0',
    });
    const signature = createHmac('sha256', signingKey).update(`${header}.${payload}`).digest('base64url');
    const token = `${header}.${payload}.${signature}`;
    issued.push(token);
    res.writeHead(200, { 'content-type': 'application/json' });
    const expires_on = String(expiresOn);
    res.end(JSON.stringify({ access_token: token, expires_on, resource, token_type: 'Bearer', client_id: clientId }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  return {
    env: { IDENTITY_ENDPOINT: `http://127.0.0.1:${port}/msi/token`, IDENTITY_HEADER: identityHeader },
    requests,
    issued,
    refusalMessage,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The claims of a JWT, unverified; undefined when it is not one. */
export function jwtClaims(token: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
