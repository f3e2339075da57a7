/** The benches' child servers: each its own Node process, ready once it prints `listening on http://…`. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { freePort } from '../dev/ports.js';

const root = new URL('../', import.meta.url).pathname;

export interface ChildServer {
  url: string;
  child: ChildProcess;
}

/** Runs `node <args>` from the repository root with `env` added; `node` defaults to this process's Node.js. */
export function startListening(
  args: string[],
  env: Record<string, string> = {},
  node = process.execPath,
): Promise<ChildServer> {
  return new Promise((resolve, reject) => {
    const child = spawn(node, args, {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let seen = '';
    child.stdout.on('data', (c: Buffer) => {
      seen += c;
      const m = /listening on (http:\/\/\S+)/.exec(seen);
      if (m) resolve({ url: m[1]!, child });
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}: ${seen}`)));
  });
}

/** The Azure OpenAI simulator in its own process (its CPU is not the measured process's), on a free port. */
export async function startSimulatorProcess(cpu?: number): Promise<ChildServer> {
  const args = ['--import', 'tsx', 'dev/simulator/main.ts'];
  const env = { SIMULATOR_PORT: String(await freePort()) };
  return cpu === undefined
    ? startListening(args, env)
    : startListening(['-c', String(cpu), process.execPath, ...args], env, 'taskset');
}

/**
 * CPUs to pin a measured process and its upstream to (Linux `taskset`, two CPUs or more; BENCH_PIN=0 turns it off):
 * on a shared 2-core machine the simulator otherwise lands on the measured process's core now and then, and the
 * cache it evicts costs the larger of two handlers more, which moved CPU-per-request ratios by ±0.05 between runs.
 */
export function pinnedCpus(): { measured: number; upstream: number } | undefined {
  if (process.env.BENCH_PIN === '0' || process.platform !== 'linux' || availableParallelism() < 2) return undefined;
  return spawnSync('taskset', ['-V']).status === 0 ? { measured: 0, upstream: 1 } : undefined;
}
