/**
 * What the conversation and Responses benches run on: Azurite behind a counting proxy (table operations are
 * counted from outside the app: every request it sends to the store passes the proxy), the simulator, and the
 * local host serving the function list in this process, with a 4,096-token context budget.
 */
import { azuriteConnectionString, startAzurite } from '../dev/azurite.js';
import { startSimulator } from '../dev/simulator/server.js';
import { startCountingProxy } from '../test/helpers/counting-proxy.js';

export async function startTurnStack() {
  const azurite = await startAzurite();
  const proxy = await startCountingProxy(azurite.port);
  const simulator = await startSimulator();
  // Before the app's modules load: they read their settings once.
  Object.assign(process.env, {
    AZURE_STORAGE_CONNECTION_STRING: azuriteConnectionString(proxy.port),
    AZURE_OPENAI_ENDPOINT: simulator.url,
    AZURE_OPENAI_API_KEY: 'bench',
    TRUST_PRINCIPAL_HEADERS: 'true',
    CONVERSATION_CONTEXT_TOKENS: '4096',
  });
  const { startLocalHost } = await import('../dev/host.js');
  const { functions } = await import('../src/functions/registry.js');
  const host = await startLocalHost({ functions, port: 0, log: false });
  return {
    host,
    proxy,
    simulator,
    headers: { 'x-ms-client-principal-id': 'bench-user', 'content-type': 'application/json' },
    async stop() {
      await host.close();
      await simulator.close();
      await proxy.close();
      await azurite.stop();
    },
  };
}
