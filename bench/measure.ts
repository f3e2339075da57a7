/** What the HTTP benches measure a request and a process by. */
import http from 'node:http';
import { readFileSync } from 'node:fs';

export interface Timed {
  /** Until the whole answer was received (the client does not parse it). */
  ms: number;
  /** Until its first body byte. */
  ttfb: number;
  status: number;
  bytes: number;
  headers: http.IncomingHttpHeaders;
}

/** POSTs a JSON payload through `agent` and times the answer. */
export function timedPost(url: string, payload: string, agent: http.Agent): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    let ttfb = 0;
    let bytes = 0;
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        res.on('data', (c: Buffer) => {
          if (bytes === 0) ttfb = performance.now() - start;
          bytes += c.length;
        });
        res.on('end', () =>
          resolve({ ms: performance.now() - start, ttfb, status: res.statusCode ?? 0, bytes, headers: res.headers }),
        );
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/**
 * CPU time (user + system, all threads) a process has used, in ms, from /proc: per request, it is the figure a busy
 * machine does not blur.
 */
export function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}
