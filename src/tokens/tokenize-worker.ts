/** A worker of the pool in src/tokens/worker.ts: runs one job at a time with the same engine. */
import { parentPort } from 'node:worker_threads';
import { countChatTokens } from './chat.js';
import { getEncoding, type Encoding } from './encodings.js';
import { idsToJson } from './ids-json.js';
import type { TokenizeJob, TokenizeResult } from './worker.js';

/** Text that exercises every path of the engine (cached pieces, short merges), to warm its code. */
const WARM_TEXT = 'Warm-up: tiktoken is great! 12345 Grüße 😀\n\n'.repeat(40);
/** Runs of one letter: enough long-piece merging that it is compiled by the optimizing tier. */
const WARM_RUN = 'a'.repeat(30_000);

/**
 * The warm-up in small steps, each its own macrotask: a job that arrives meanwhile (the instance's first request may
 * be a large one) runs between two steps instead of after the whole warm-up.
 */
function warm(encoding: Encoding): void {
  const steps = [
    ...Array.from({ length: 3 }, () => () => void idsToJson(encoding.encodeToArray(WARM_TEXT))),
    ...Array.from({ length: 3 }, () => () => void encoding.count(WARM_RUN)),
  ];
  const next = () => {
    steps.shift()?.();
    if (steps.length) setImmediate(next);
  };
  next();
}

function run(job: TokenizeJob): { result: TokenizeResult; transfer: ArrayBuffer[] } {
  const encoding = getEncoding(job.encoding);
  switch (job.op) {
    case 'encode': {
      const ids = encoding.encodeToArray(job.text, job.allowedSpecial);
      const json = idsToJson(ids);
      return { result: { count: ids.length, json }, transfer: [json.buffer as ArrayBuffer] };
    }
    case 'count':
      return {
        result: { count: job.texts.reduce((n, text) => n + encoding.count(text, job.allowedSpecial), 0) },
        transfer: [],
      };
    case 'chat':
      return { result: { count: countChatTokens(encoding, job.messages) }, transfer: [] };
    case 'warm':
      warm(encoding);
      return { result: { count: 0 }, transfer: [] };
  }
}

parentPort!.on('message', ({ id, job }: { id: number; job: TokenizeJob }) => {
  try {
    const { result, transfer } = run(job);
    parentPort!.postMessage({ id, result }, transfer);
  } catch (error) {
    parentPort!.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  }
});
