/**
 * Tokenization off the main thread, for inputs large enough to stall an instance: a single piece of BPE work
 * (one 512 KB run of a letter, say) cannot be split without changing the ids, so it runs in a worker while the
 * event loop keeps answering small requests. Each worker loads the same compact tables (~30 ms, a few MB).
 *
 * A small pool, one worker per core (at most 4), shares the jobs. The queue serves the shortest job first, so a
 * 72 KB request is not stuck behind a row of 4 MB ones (a job overtaken too often goes next, so big ones finish
 * too), and it is bounded: past TOKENIZER_QUEUE_MAX_CHARS of waiting text a new job is refused with 503 and a
 * `retry-after`, instead of waiting minutes.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { serviceUnavailable } from '../errors.js';
import type { ChatMessageForCount } from './chat.js';
import type { AllowedSpecial, EncodingName } from './encodings.js';

export { OFF_THREAD_CHARS } from './off-thread.js';

/** Read from the environment directly: tuning knobs of this module, documented in docs/benchmarks.md. */
const envInt = (name: string, fallback: number) => {
  const value = Number(process.env[name]);
  return Number.isInteger(value) && value > 0 ? value : fallback;
};
const POOL_SIZE = envInt('TOKENIZER_WORKERS', Math.max(1, Math.min(4, availableParallelism())));
/** Text waiting for a worker (not yet started), in UTF-16 units: 8 bodies of the 4 MiB maximum. */
const QUEUE_MAX_CHARS = envInt('TOKENIZER_QUEUE_MAX_CHARS', 32 * 1024 * 1024);
/** A queued job that this many shorter jobs overtook goes next, whatever its size. */
const MAX_OVERTAKEN = 8;
/** Rough throughput of one worker (UTF-16 units per second), to tell a refused caller when to come back. */
const CHARS_PER_SECOND = 2_000_000;

export type TokenizeJob =
  | { op: 'encode'; encoding: EncodingName; text: string; allowedSpecial?: AllowedSpecial }
  | { op: 'count'; encoding: EncodingName; texts: string[]; allowedSpecial?: AllowedSpecial }
  | { op: 'chat'; encoding: EncodingName; messages: ChatMessageForCount[] }
  | { op: 'warm'; encoding: EncodingName };

/** `json` (encode only) is the ids as JSON array text, `[83,1609,…]`, in UTF-8: built in the worker, transferred. */
export interface TokenizeResult {
  count: number;
  json?: Uint8Array;
}

interface Queued {
  id: number;
  job: TokenizeJob;
  chars: number;
  overtaken: number;
  resolve: (r: TokenizeResult) => void;
  reject: (e: Error) => void;
}

interface PoolWorker {
  worker: Worker;
  busy: Queued | null;
}

const workers: PoolWorker[] = [];
const queue: Queued[] = [];
let queuedChars = 0;
let nextId = 1;

export function jobChars(job: TokenizeJob): number {
  switch (job.op) {
    case 'encode':
      return job.text.length;
    case 'count':
      return job.texts.reduce((n, t) => n + t.length, 0);
    case 'chat':
      return job.messages.reduce((n, m) => n + m.role.length + (m.name?.length ?? 0) + contentChars(m.content), 0);
    case 'warm':
      return 0;
  }
}

function contentChars(content: ChatMessageForCount['content']): number {
  if (content == null) return 0;
  if (typeof content === 'string') return content.length;
  return content.reduce((n, part) => n + (part.text?.length ?? 0), 0);
}

function workerSource(): { file: URL; fromSource: boolean } {
  // Beside this module: the bundled .js in dist/; the .ts source when running under tsx (dev and tests), whose
  // loader hooks a worker does not inherit, so the worker registers them before importing its source.
  const fromSource = import.meta.url.endsWith('.ts');
  return { file: new URL(fromSource ? './tokenize-worker.ts' : './tokenize-worker.js', import.meta.url), fromSource };
}

function spawn(): PoolWorker {
  const { file, fromSource } = workerSource();
  const worker = fromSource
    ? new Worker(
        `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(file.href)}); });`,
        { eval: true },
      )
    : new Worker(file, { execArgv: process.execArgv.filter((arg) => !arg.startsWith('--input-type')) }); // only valid for the main script
  const slot: PoolWorker = { worker, busy: null };
  worker.on('message', ({ id, result, error }: { id: number; result?: TokenizeResult; error?: string }) => {
    const done = slot.busy;
    if (done?.id !== id) return; // a warm-up's answer (id 0)
    slot.busy = null;
    worker.unref();
    if (error) done?.reject(new Error(error));
    else done?.resolve(result!);
    dispatch();
  });
  worker.on('error', (error) => {
    // A crashed worker fails its own job only; a fresh one takes its place for the rest of the queue.
    slot.busy?.reject(error);
    slot.busy = null;
    workers.splice(workers.indexOf(slot), 1);
    dispatch();
  });
  // Referenced only while a job is out: an idle worker must not keep the process (or a test) alive. (After the
  // listeners: adding a 'message' listener references the worker again.)
  worker.unref();
  workers.push(slot);
  return slot;
}

/** The next job: the shortest waiting, unless one has been overtaken too often (then the oldest of those). */
function takeNext(): Queued | undefined {
  if (queue.length === 0) return undefined;
  let pick = queue.findIndex((q) => q.overtaken >= MAX_OVERTAKEN);
  if (pick < 0) {
    pick = 0;
    for (let i = 1; i < queue.length; i++) if (queue[i]!.chars < queue[pick]!.chars) pick = i;
  }
  for (let i = 0; i < pick; i++) queue[i]!.overtaken++;
  const [next] = queue.splice(pick, 1);
  queuedChars -= next!.chars;
  return next;
}

function dispatch() {
  for (;;) {
    if (queue.length === 0) return;
    let slot = workers.find((w) => w.busy === null);
    if (!slot && workers.length < POOL_SIZE) slot = spawn();
    if (!slot) return;
    const next = takeNext()!;
    slot.busy = next;
    slot.worker.ref();
    slot.worker.postMessage({ id: next.id, job: next.job });
  }
}

/** Runs one job in the pool; refuses it (503 + retry-after) when the waiting text is over the bound. */
export function runInPool(job: TokenizeJob): Promise<TokenizeResult> {
  const chars = jobChars(job);
  const idle = workers.some((w) => w.busy === null) || workers.length < POOL_SIZE;
  if (!idle && queue.length > 0 && queuedChars + chars > QUEUE_MAX_CHARS) {
    const seconds = Math.max(1, Math.ceil((queuedChars + chars) / (CHARS_PER_SECOND * POOL_SIZE)));
    return Promise.reject(
      serviceUnavailable('The tokenizer is busy with large inputs; retry later.', 'tokenizer_busy', seconds),
    );
  }
  return new Promise((resolve, reject) => {
    queue.push({ id: nextId++, job, chars, overtaken: 0, resolve, reject });
    queuedChars += chars;
    dispatch();
  });
}

/**
 * Starts `count` workers (beyond those running) and has each load `encoding` and run its code once, so that the
 * first large request costs what a later one does (a worker's start, ~0.1-0.3 s, is otherwise paid by it).
 * Called once the app has started; idle workers are unreferenced, so warming never keeps a process alive.
 * TOKENIZER_WARM=false turns it off.
 */
export function warmPool(count = 1, encoding: EncodingName = 'cl100k_base'): void {
  if (process.env.TOKENIZER_WARM === 'false') return; // e.g. to compare cold starts without it
  for (let i = 0; i < count && workers.length < POOL_SIZE; i++) {
    const slot = spawn();
    slot.worker.postMessage({ id: 0, job: { op: 'warm', encoding } satisfies TokenizeJob });
  }
}
