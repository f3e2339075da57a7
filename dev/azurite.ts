import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { freePort } from './ports.js';

// Azurite's published, well-known development account (not a secret: it is in Microsoft's docs and every emulator).
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export function azuriteConnectionString(port: number, host = '127.0.0.1'): string {
  return `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};TableEndpoint=http://${host}:${port}/${AZURITE_ACCOUNT};`;
}

export interface Azurite {
  port: number;
  /** Shared-key access with the well-known key (HTTP only: with `https` use `tableEndpoint` and a token). */
  connectionString: string;
  /** The account's table endpoint, as a storage account's `primaryEndpoints.table` is in Azure. */
  tableEndpoint: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export function waitForPort(port: number, host = '127.0.0.1', timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = connect(port, host);
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`Nothing listening on ${host}:${port} after ${timeoutMs} ms`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

export interface AzuriteOptions {
  port?: number;
  /** Keeps data on disk there; otherwise it lives in memory. */
  location?: string;
  silent?: boolean;
  /** Serve HTTPS with this PEM certificate and key (Azurite accepts bearer tokens over HTTPS only). */
  https?: TlsFiles;
  /** `basic`: accept bearer tokens whose issuer, audience and lifetime look like Entra ID's (no signature check). */
  oauth?: 'basic';
  /** Azurite's debug log (every request with its headers) goes to this file. */
  debugLog?: string;
  /** In its own process group, so only our `stop()` (never a signal to the caller's group) stops it. */
  detached?: boolean;
}

/** Starts Azurite's Table service as a child process. */
export async function startAzurite(options: AzuriteOptions = {}): Promise<Azurite> {
  const port = options.port ?? (await freePort());
  const main = createRequire(import.meta.url).resolve('azurite/dist/src/table/main.js');
  const args = [
    main,
    '--tableHost',
    '127.0.0.1',
    '--tablePort',
    String(port),
    '--skipApiVersionCheck',
    '--disableTelemetry',
  ];
  if (options.location) args.push('--location', options.location);
  else args.push('--inMemoryPersistence');
  if (options.silent ?? true) args.push('--silent');
  if (options.https) args.push('--cert', options.https.cert, '--key', options.https.key);
  if (options.oauth) args.push('--oauth', options.oauth);
  if (options.debugLog) args.push('--debug', options.debugLog);
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'ignore', 'inherit'],
    detached: options.detached ?? false,
  });
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`Azurite exited early (code ${code})`))),
  );
  await Promise.race([waitForPort(port), exited]);
  exited.catch(() => undefined);
  return {
    port,
    connectionString: azuriteConnectionString(port),
    tableEndpoint: `${options.https ? 'https' : 'http'}://127.0.0.1:${port}/${AZURITE_ACCOUNT}`,
    process: child,
    // SIGINT is Azurite's graceful close, which saves its database (SIGTERM would lose the last ~5 s of writes).
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const force = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(force);
          resolve();
        });
        child.kill('SIGINT');
      }),
  };
}

export interface TlsFiles {
  /** PEM certificate: self-signed, for 127.0.0.1 and localhost; also the CA file a client trusts it by. */
  cert: string;
  key: string;
}

/**
 * A self-signed certificate for 127.0.0.1/localhost in `dir` (made with openssl unless already there). Only a
 * process given it as NODE_EXTRA_CA_CERTS (or `ca`) trusts it: nothing is added to the machine's trust store.
 */
export function localCertificate(dir: string): TlsFiles {
  const files = { cert: `${dir}/cert.pem`, key: `${dir}/key.pem` };
  if (existsSync(files.cert) && existsSync(files.key)) return files;
  mkdirSync(dir, { recursive: true });
  const result = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-sha256',
      '-days',
      '30',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      files.key,
      '-out',
      files.cert,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  if (result.error || result.status !== 0) {
    const why = result.error?.message ?? String(result.stderr);
    throw new Error(`openssl could not make a local certificate (is openssl installed?): ${why}`);
  }
  return files;
}
