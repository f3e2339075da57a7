/**
 * Table Storage the way Azure gives it to the app: HTTPS, bearer tokens only, a managed identity to get them.
 * - Azurite's Table service with `--oauth basic` over HTTPS, on a certificate made here (trusted by whoever is
 *   given `env.NODE_EXTRA_CA_CERTS`, nobody else);
 * - a fake managed-identity endpoint (dev/fake-identity.ts) issuing storage-audience tokens;
 * - a recording HTTPS proxy in front of Azurite, so every storage request's auth scheme can be checked (or
 *   printed, for a developer watching `STORAGE_AUTH=identity npm start`).
 * `env` is what the app needs, named as infra/main.bicep and the platform name them: no key, no connection string.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, createServer, request as httpsRequest, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { localCertificate, startAzurite, AZURITE_ACCOUNT, type Azurite } from './azurite.js';
import { jwtClaims, startFakeIdentity } from './fake-identity.js';
import type { FakeIdentity, IdentityBehaviour, IdentityRequest } from './fake-identity.js';

/** The user-assigned identity's client id the app is given (Bicep: identity.outputs.clientId). */
export const KEYLESS_CLIENT_ID = '00000000-0000-0000-0000-00000000c11d';

export interface StorageRequest {
  method: string;
  path: string;
  /** The Authorization scheme: Bearer, SharedKey, SharedKeyLite; `sas` for a signed URL; `none`. */
  scheme: string;
  /** For a bearer token: its audience claim. */
  audience?: string;
  token?: string;
  /** The If-Match header: an ETag-guarded write (quota reservations, conversation updates). */
  ifMatch?: string;
  status?: number;
}

export interface KeylessStorage {
  azurite: Azurite;
  identity: FakeIdentity;
  /** The app's table endpoint (the recording proxy), like `https://<account>.table.core.windows.net/` in Azure. */
  tableEndpoint: string;
  requests: StorageRequest[];
  env: {
    AZURE_STORAGE_TABLE_ENDPOINT: string;
    AZURE_CLIENT_ID: string;
    IDENTITY_ENDPOINT: string;
    IDENTITY_HEADER: string;
    NODE_EXTRA_CA_CERTS: string;
  };
  stop(): Promise<void>;
}

function describeAuth(method: string, url: string, authorization: string | undefined): StorageRequest {
  const path = url.split('?')[0] ?? url;
  if (authorization) {
    const [scheme = '', credential = ''] = authorization.split(' ', 2);
    if (scheme === 'Bearer') {
      const audience = jwtClaims(credential)?.aud;
      return { method, path, scheme, token: credential, ...(typeof audience === 'string' ? { audience } : {}) };
    }
    return { method, path, scheme };
  }
  return { method, path, scheme: /[?&]sig=/.test(url) ? 'sas' : 'none' };
}

export async function startKeylessStorage(
  options: {
    /** Certificate and (with `location`) data live here; a temporary directory otherwise. */
    dir?: string;
    location?: string;
    behaviour?: Record<string, IdentityBehaviour>;
    /** Called with each storage request once answered (npm start prints them). */
    onRequest?: (request: StorageRequest) => void;
    /** Called with each token request to the fake identity endpoint. */
    onTokenRequest?: (request: IdentityRequest) => void;
  } = {},
): Promise<KeylessStorage> {
  const dir = options.dir ?? mkdtempSync(`${tmpdir()}/keyless-`);
  const tls = localCertificate(`${dir}/tls`);
  // Data kept on disk (npm start) means Azurite runs in its own process group, so a signal to npm start's group
  // reaches it only through our graceful stop and no acknowledged write is lost.
  const persistence = options.location ? { location: options.location, detached: true } : {};
  const azurite = await startAzurite({ https: tls, oauth: 'basic', ...persistence });
  const identity = await startFakeIdentity({
    behaviour: options.behaviour ?? {},
    ...(options.onTokenRequest ? { onRequest: options.onTokenRequest } : {}),
  });
  const ca = readFileSync(tls.cert);
  const upstream = new Agent({ keepAlive: true, ca });
  const requests: StorageRequest[] = [];

  const proxy: Server = createServer({ cert: ca, key: readFileSync(tls.key) }, (req, res) => {
    const record = describeAuth(req.method ?? 'GET', req.url ?? '/', req.headers.authorization);
    if (typeof req.headers['if-match'] === 'string') record.ifMatch = req.headers['if-match'];
    requests.push(record);
    const headers = { ...req.headers, host: `127.0.0.1:${azurite.port}` };
    const target = { host: '127.0.0.1', port: azurite.port, method: req.method, path: req.url, headers };
    const forward = httpsRequest({ ...target, agent: upstream }, (answer) => {
      record.status = answer.statusCode;
      options.onRequest?.(record);
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forward.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', () => resolve()));
  const proxyPort = (proxy.address() as { port: number }).port;
  const tableEndpoint = `https://127.0.0.1:${proxyPort}/${AZURITE_ACCOUNT}`;

  return {
    azurite,
    identity,
    tableEndpoint,
    requests,
    env: {
      AZURE_STORAGE_TABLE_ENDPOINT: tableEndpoint,
      AZURE_CLIENT_ID: KEYLESS_CLIENT_ID,
      ...identity.env,
      NODE_EXTRA_CA_CERTS: tls.cert,
    },
    async stop() {
      await new Promise<void>((resolve) => {
        proxy.close(() => resolve());
        proxy.closeAllConnections();
      });
      upstream.destroy();
      await Promise.all([azurite.stop(), identity.close()]);
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
