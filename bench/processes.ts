/** The benches' child servers: each its own Node process, ready once it prints `listening on http://…`. */
import { spawn, type ChildProcess } from 'node:child_process';
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
export async function startSimulatorProcess(): Promise<ChildServer> {
  return startListening(['--import', 'tsx', 'dev/simulator/main.ts'], { SIMULATOR_PORT: String(await freePort()) });
}
