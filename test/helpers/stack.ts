/**
 * Starts what an HTTP-level test needs, on free ports: Azurite (in memory) when asked, and the app itself in
 * the local Functions host as a child process, so tests never collide with a running `npm start`.
 * The app's output goes to test-artifacts/logs/ (a security test greps every log of the run for secrets).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { basename } from 'node:path';
import { startAzurite, type Azurite } from '../../dev/azurite.js';
import type { IdentityBehaviour } from '../../dev/fake-identity.js';
import { startKeylessStorage, type KeylessStorage } from '../../dev/keyless-storage.js';
import { freePort } from '../../dev/ports.js';
import { startSimulator, type Simulator } from '../../dev/simulator/server.js';
import type { Fault } from '../../dev/simulator/faults.js';

const root = new URL('../..', import.meta.url).pathname;
export const logDir = `${root}test-artifacts/logs`;

export interface AppProcess {
  url: string;
  /** Where the app's stdout and stderr go. */
  logFile: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts the local host with exactly `env` as the app's settings (nothing inherited from this shell's AZURE_* etc.).
 */
export async function startApp(env: Record<string, string>, logName = 'app'): Promise<AppProcess> {
  mkdirSync(logDir, { recursive: true });
  const port = await freePort();
  const base: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'NODE_OPTIONS']) if (process.env[key]) base[key] = process.env[key]!;
  const child = spawn(process.execPath, ['--import', 'tsx', `${root}dev/host.ts`], {
    cwd: root,
    env: { ...base, HOST_LOG: 'true', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logFile = `${logDir}/${logName}-${port}.log`;
  const log = createWriteStream(logFile);
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const url = await new Promise<string>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`app did not start: ${seen}`)), 30_000);
    child.stdout.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const m = /listening on (http:\/\/\S+)/.exec(seen);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (seen += chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`app exited with ${code}: ${seen}`));
    });
  });
  return {
    url,
    logFile,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export interface Stack {
  /** Base URL of the API, ending in `/api`. */
  url: string;
  app: AppProcess;
  azurite?: Azurite;
  /** With `keyless`: Azurite behind bearer tokens, the fake identity endpoint, and the recorded storage requests. */
  keyless?: KeylessStorage;
  simulator?: Simulator;
  env: Record<string, string>;
  /** Stops and starts the app process with the same settings (e.g. to prove data outlives it). */
  restartApp(): Promise<void>;
  stop(): Promise<void>;
}

/** The api-key tests give the app for the simulator; distinctive so the security tests can grep logs for it. */
export const SIMULATOR_TEST_KEY = 'sim-test-key-5f1c9e0a7b3d';

export interface StackOptions {
  azurite?: boolean;
  /**
   * The app as infra/main.bicep configures it in Azure: Table Storage by endpoint and managed identity over HTTPS
   * (Azurite `--oauth basic`), the upstream by managed identity too; no key or connection string anywhere.
   * `behaviour` tells the fake identity endpoint what to do per client id (e.g. refuse one).
   */
  keyless?: boolean | { behaviour?: Record<string, IdentityBehaviour> };
  simulator?: boolean | { latencyMs?: number; tokenDelayMs?: number; apiKeys?: string[] };
  env?: Record<string, string>;
  name?: string;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const name = options.name ?? basename(process.argv[1] ?? 'test').replace(/\.test\.ts$/, '');
  const azurite = options.azurite ? await startAzurite() : undefined;
  const keylessOptions = typeof options.keyless === 'object' ? options.keyless : {};
  const keyless = options.keyless ? await startKeylessStorage(keylessOptions) : undefined;
  const simulator = options.simulator
    ? await startSimulator(typeof options.simulator === 'object' ? options.simulator : {})
    : undefined;
  const env: Record<string, string> = {
    TRUST_PRINCIPAL_HEADERS: 'true',
    ...(azurite ? { AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString } : {}),
    ...(keyless ? keyless.env : {}),
    ...(simulator ? { AZURE_OPENAI_ENDPOINT: simulator.url } : {}),
    // Keyless: the upstream authenticates with the managed identity too, as in Azure (the simulator takes bearers).
    ...(simulator && !keyless ? { AZURE_OPENAI_API_KEY: SIMULATOR_TEST_KEY } : {}),
    ...options.env,
  };
  let app = await startApp(env, name);
  const stack: Stack = {
    url: app.url,
    app,
    azurite,
    keyless,
    simulator,
    env,
    async restartApp() {
      await app.stop();
      app = await startApp(env, name);
      stack.app = app;
      stack.url = app.url;
    },
    async stop() {
      await app.stop();
      await Promise.all([azurite?.stop(), keyless?.stop(), simulator?.close()]);
    },
  };
  return stack;
}

/** Sends a JSON body (a string as it is, none when undefined) and returns status, headers and the parsed body. */
export async function requestJson(url: string, method: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, json, text };
}

/** POST JSON and return status, headers and parsed body. */
export const postJson = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  requestJson(url, 'POST', body, headers);

/** Asserts OpenAI's error shape: all four keys present. */
export function isErrorShape(body: any): boolean {
  return (
    body &&
    typeof body === 'object' &&
    body.error &&
    typeof body.error.message === 'string' &&
    typeof body.error.type === 'string' &&
    'param' in body.error &&
    'code' in body.error
  );
}

async function simCall(stack: Stack, method: string, path: string, body?: unknown): Promise<any> {
  if (!stack.simulator) throw new Error('this stack has no simulator: startStack({ simulator: true })');
  const response = await fetch(`${stack.simulator.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return response.json();
}

/** Queues a simulator fault for the next data-plane request(s). */
export const simFault = (stack: Stack, fault: Fault) => simCall(stack, 'POST', '/_sim/faults', fault);
/** Sets (or with null clears) the simulator's tokens-per-minute limit. */
export const simTpm = (stack: Stack, tokensPerMinute: number | null) =>
  simCall(stack, 'POST', '/_sim/tpm', { tokensPerMinute });
/** Every data-plane request the simulator received, oldest first. */
export const simRequests = async (stack: Stack): Promise<import('../../dev/simulator/server.js').RequestLogEntry[]> =>
  (await simCall(stack, 'GET', '/_sim/requests')).data;
export const simReset = (stack: Stack) => simCall(stack, 'POST', '/_sim/reset', {});

/**
 * Waits for the next quota minute when less than `marginMs` of this one is left. Quota windows are wall-clock
 * minutes (src/quotas/quota.ts): a batch, or a call and the read of its usage, must not straddle a minute's end,
 * where the reading would land in the next, empty window.
 */
export async function awayFromMinuteEnd(marginMs: number): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < marginMs) await new Promise((resolve) => setTimeout(resolve, left + 200));
}
