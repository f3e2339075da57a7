/**
 * `npm start`: the API on an embedded default, with no Azure account.
 * - storage: Azurite's Table service (data under .azurite/, kept across restarts) unless a store is configured;
 * - upstream: the Azure OpenAI simulator unless AZURE_OPENAI_ENDPOINT or OPENAI_BASE_URL is set;
 * - host: `func start` when Core Tools are installed, otherwise dev/host.ts serving the same functions.
 * `STORAGE_AUTH=identity npm start`: storage the keyless way Azure runs it instead (docs/keyless-storage.md):
 * Azurite over HTTPS accepting bearer tokens only, a fake managed-identity endpoint, and a log line per request.
 * Ctrl-C (or SIGTERM/SIGHUP to its process group) stops everything it started; Azurite saves its data first.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { startAzurite, azuriteConnectionString, localCertificate, type Azurite } from './azurite.js';
import { startSimulator } from './simulator/server.js';

const root = new URL('..', import.meta.url).pathname;
const env = process.env;
const stops: (() => Promise<void> | void)[] = [];

/** Like `func start`: local.settings.json Values fill what the environment does not set. */
function loadLocalSettings() {
  const file = `${root}local.settings.json`;
  if (!existsSync(file)) return;
  const values = (JSON.parse(readFileSync(file, 'utf8')) as { Values?: Record<string, string> }).Values ?? {};
  for (const [name, value] of Object.entries(values)) if (env[name] === undefined && value !== '') env[name] = value;
}

const isListening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

const keylessDir = `${root}.azurite/keyless`;

/**
 * The app must trust the local certificate from its first line (Node reads NODE_EXTRA_CA_CERTS at start only),
 * and the local host runs in this process: so make the certificate, then run this script again trusting it.
 * Returns false when this process is the one to carry on.
 */
function relaunchTrustingLocalCertificate(): boolean {
  const { cert } = localCertificate(`${keylessDir}/tls`);
  if (env.NODE_EXTRA_CA_CERTS === cert) return false;
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...env, NODE_EXTRA_CA_CERTS: cert },
  });
  // Ctrl-C reaches the child too (same process group); this parent only waits for it.
  process.removeAllListeners('SIGINT').removeAllListeners('SIGTERM').removeAllListeners('SIGHUP');
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => child.kill(signal));
  child.once('exit', (code) => process.exit(code ?? 0));
  return true;
}

/** Keyless storage: every setting as infra/main.bicep sets it in Azure, with local stand-ins behind them. */
async function ensureKeylessStorage() {
  const { startKeylessStorage } = await import('./keyless-storage.js');
  if (env.AZURE_OPENAI_ENDPOINT && !env.AZURE_OPENAI_API_KEY) {
    console.warn('upstream: uses the fake managed identity too; give Azure OpenAI an api-key or use the simulator');
  }
  const keyless = await startKeylessStorage({
    dir: keylessDir,
    location: `${keylessDir}/data`,
    onTokenRequest: (r) =>
      console.log(`identity: token for ${r.resource} (client ${r.clientId ?? 'system-assigned'}) → ${r.outcome}`),
    onRequest: (r) => {
      const audience = r.audience ? `, aud ${r.audience}` : '';
      console.log(`storage: ${r.method} ${r.path} → ${r.status} (${r.scheme}${audience})`);
    },
  });
  stops.push(() => keyless.stop());
  delete env.AZURE_STORAGE_CONNECTION_STRING;
  Object.assign(env, keyless.env);
  console.log(`storage: Azurite over HTTPS with bearer tokens only (--oauth basic), data in .azurite/keyless/`);
  console.log(`storage: table endpoint ${keyless.tableEndpoint}, client id ${env.AZURE_CLIENT_ID} (fake identity)`);
}

async function ensureStorage() {
  if (env.STORAGE_AUTH === 'identity') return ensureKeylessStorage();
  const conn = env.AZURE_STORAGE_CONNECTION_STRING;
  if (env.AZURE_STORAGE_TABLE_ENDPOINT || (conn && conn !== 'UseDevelopmentStorage=true')) {
    console.log('storage: the configured Table Storage');
    return;
  }
  const port = Number(env.AZURITE_TABLE_PORT ?? 10002);
  env.AZURE_STORAGE_CONNECTION_STRING = azuriteConnectionString(port);
  if (await isListening(port)) {
    console.log(`storage: Azurite already running on 127.0.0.1:${port}`);
    return;
  }
  const location = env.AZURITE_LOCATION ?? `${root}.azurite`;
  mkdirSync(location, { recursive: true });
  // In its own process group: a signal to `npm start`'s group (Ctrl-C, kill -TERM -<pgid>, a closed terminal) reaches
  // us, not Azurite, which would exit without saving its last writes. We stop it with SIGINT, its graceful close.
  const azurite: Azurite = await startAzurite({ port, location, detached: true });
  stops.push(() => azurite.stop());
  console.log(`storage: Azurite (Table service) on 127.0.0.1:${port}, data in ${env.AZURITE_LOCATION ?? '.azurite/'}`);
}

/** The local dev key the simulator is started with; it is not a secret and guards nothing. */
const SIMULATOR_KEY = 'local-simulator-key';

async function ensureUpstream() {
  if (env.OPENAI_BASE_URL)
    return console.log(`upstream: OpenAI-compatible server at ${new URL(env.OPENAI_BASE_URL).host}`);
  if (env.AZURE_OPENAI_ENDPOINT || env.AZURE_OPENAI_BACKENDS) {
    const auth = env.AZURE_OPENAI_API_KEY ? 'api-key' : 'managed identity / az login';
    const where = env.AZURE_OPENAI_BACKENDS ? 'the AZURE_OPENAI_BACKENDS' : new URL(env.AZURE_OPENAI_ENDPOINT!).host;
    return console.log(`upstream: Azure OpenAI at ${where} (${auth})`);
  }
  const port = Number(env.SIMULATOR_PORT ?? 8090);
  // Keyless mode: the simulator accepts the managed identity's bearer token, as Azure OpenAI does with Bicep's roles.
  if (env.STORAGE_AUTH !== 'identity') env.AZURE_OPENAI_API_KEY = SIMULATOR_KEY;
  const count = Number(env.SIMULATOR_BACKENDS ?? 1);
  if (count > 1) return startSimulatorBackends(port, count);
  env.AZURE_OPENAI_ENDPOINT = `http://127.0.0.1:${port}`;
  if (await isListening(port))
    return console.log(`upstream: Azure OpenAI simulator already running on 127.0.0.1:${port}`);
  const simulator = await startSimulator({ port });
  stops.push(() => simulator.close());
  console.log(
    `upstream: Azure OpenAI simulator at ${simulator.url} (AZURE_OPENAI_ENDPOINT is unset; set it to use Azure)`,
  );
}

/** SIMULATOR_BACKENDS=N: N simulators on consecutive ports as N backends of one priority, to watch failover. */
async function startSimulatorBackends(firstPort: number, count: number) {
  const backends = [];
  for (let i = 0; i < count; i++) {
    const simulator = await startSimulator({ port: firstPort + i });
    stops.push(() => simulator.close());
    backends.push({ name: `sim-${String.fromCharCode(97 + i)}`, endpoint: simulator.url, priority: 1, weight: 1 });
    console.log(
      `upstream: simulator backend ${backends[i]!.name} at ${simulator.url} (faults: POST ${simulator.url}/_sim/faults)`,
    );
  }
  env.AZURE_OPENAI_BACKENDS = JSON.stringify(backends);
}

function hasFunc(): boolean {
  if (env.FUNCTIONS_HOST === 'local') return false;
  return spawnSync('func', ['--version'], { stdio: 'ignore' }).status === 0;
}

async function main() {
  loadLocalSettings();
  if (env.STORAGE_AUTH !== undefined && env.STORAGE_AUTH !== 'identity' && env.STORAGE_AUTH !== 'key') {
    throw new Error(`STORAGE_AUTH must be 'identity' or 'key' (the default)`);
  }
  if (env.STORAGE_AUTH === 'identity' && relaunchTrustingLocalCertificate()) return;
  env.TRUST_PRINCIPAL_HEADERS ??= 'true'; // No platform injects principals locally; the headers let one browser act as several users.
  // A dev server on this machine (Vite on http://localhost:5173, …) may call the API; Azure allows only CORS_ALLOWED_ORIGINS.
  env.CORS_ALLOW_LOOPBACK ??= 'true';
  await ensureStorage();
  await ensureUpstream();
  const port = Number(env.PORT ?? 7071);
  if (hasFunc()) {
    console.log('host: Azure Functions Core Tools (func start)');
    const build = spawnSync('npm', ['run', 'build'], { stdio: 'inherit', cwd: root });
    if (build.status !== 0) throw new Error('npm run build failed');
    const func: ChildProcess = spawn('func', ['start', '--port', String(port)], { stdio: 'inherit', cwd: root, env });
    stops.push(() => void func.kill('SIGINT'));
    func.once('exit', (code) => shutdown(code ?? 0));
  } else {
    const { startLocalHost } = await import('./host.js');
    const { functions } = await import('../src/functions/registry.js');
    const host = await startLocalHost({ functions, port, log: env.HOST_LOG !== 'false' });
    stops.push(() => host.close());
    console.log(`host: local Functions host (Core Tools not found; 'func start' is used when installed)`);
    console.log(`\nAPI ready at ${host.url}  (try: curl ${host.url}/v1/health)\n`);
  }
}

let stopping = false;
async function shutdown(code = 0) {
  if (stopping) return;
  stopping = true;
  for (const stop of stops.reverse()) await Promise.resolve(stop()).catch(() => undefined);
  process.exit(code);
}
// `on`, not `once`: stopping the group delivers a signal twice (directly, and relayed by npm/tsx), and a second one
// without a handler would kill us before Azurite has saved.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void shutdown(0));

main().catch(async (error: unknown) => {
  console.error(`npm start failed: ${error instanceof Error ? error.message : String(error)}`);
  await shutdown(1);
});
