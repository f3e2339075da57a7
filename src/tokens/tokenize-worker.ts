/** The worker of src/tokens/worker.ts: tokenizes one job at a time with the same engine. */
import { parentPort } from 'node:worker_threads';
import { getEncoding } from './encodings.js';
import type { TokenizeJob } from './worker.js';

parentPort!.on('message', ({ id, job }: { id: number; job: TokenizeJob }) => {
  try {
    const encoding = getEncoding(job.encoding);
    if (job.countOnly) return parentPort!.postMessage({ id, result: { count: encoding.count(job.text, job.allowedSpecial) } });
    const tokens = encoding.encode(job.text, job.allowedSpecial);
    parentPort!.postMessage({ id, result: { count: tokens.length, tokens } });
  } catch (error) {
    parentPort!.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  }
});
