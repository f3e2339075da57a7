/**
 * `npm run simulator`: the Azure OpenAI simulator alone (SIMULATOR_PORT, default 8090; SIMULATOR_LATENCY_MS adds
 * latency; SIMULATOR_CONTEXT_WINDOWS="name=tokens,…" sets context windows).
 */
import { startSimulator } from './server.js';

const simulator = await startSimulator({
  port: Number(process.env.SIMULATOR_PORT ?? 8090),
  latencyMs: Number(process.env.SIMULATOR_LATENCY_MS ?? 0) || undefined,
  tokenDelayMs: Number(process.env.SIMULATOR_TOKEN_DELAY_MS ?? 0) || undefined,
});
console.log(`Azure OpenAI simulator listening on ${simulator.url}`);
const stop = () => void simulator.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
