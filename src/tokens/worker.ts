/**
 * Tokenization off the main thread, for inputs large enough to stall an instance: a single piece of BPE work
 * (one 512 KB run of a letter, say) cannot be split without changing the ids, so it runs in a worker while the
 * event loop keeps answering small requests. The worker loads the same compact tables (~30 ms, a few MB).
 */
import { Worker } from 'node:worker_threads';
import type { AllowedSpecial, EncodingName } from './encodings.js';

/** Texts at least this long (UTF-16 units) are tokenized in the worker. */
export const OFF_THREAD_CHARS = 64 * 1024;

export interface TokenizeJob {
  encoding: EncodingName;
  text: string;
  allowedSpecial?: AllowedSpecial;
  countOnly: boolean;
}
export interface TokenizeResult {
  count: number;
  tokens?: number[];
}

let worker: Worker | undefined;
let nextId = 0;
const pending = new Map<number, { resolve: (r: TokenizeResult) => void; reject: (e: Error) => void }>();

function start(): Worker {
  // Beside this module: the bundled .js in dist/; the .ts source when running under tsx (dev and tests), whose
  // loader hooks a worker does not inherit, so the worker registers them before importing its source.
  const fromSource = import.meta.url.endsWith('.ts');
  const file = new URL(fromSource ? './tokenize-worker.ts' : './tokenize-worker.js', import.meta.url);
  const w = fromSource
    ? new Worker(`import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(file.href)}); });`, { eval: true })
    : new Worker(file, { execArgv: process.execArgv.filter((arg) => !arg.startsWith('--input-type')) }); // only valid for the main script
  w.on('message', ({ id, result, error }: { id: number; result?: TokenizeResult; error?: string }) => {
    const job = pending.get(id);
    pending.delete(id);
    if (pending.size === 0) w.unref();
    if (error) job?.reject(new Error(error));
    else job?.resolve(result!);
  });
  w.on('error', (error) => {
    for (const job of pending.values()) job.reject(error);
    pending.clear();
    worker = undefined;
  });
  return w;
}

export function tokenizeOffThread(job: TokenizeJob): Promise<TokenizeResult> {
  worker ??= start();
  // Referenced only while a job is out: an idle worker must not keep the process (or a test) alive.
  if (pending.size === 0) worker.ref();
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    worker!.postMessage({ id, job });
  });
}
