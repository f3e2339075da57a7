/**
 * OpenTelemetry metrics derived from each request record. Only types are imported from @opentelemetry/api:
 * the instruments are made once a meter is bound (azure-monitor.ts binds the Azure Monitor one after the first
 * answer; tests bind an in-memory one). Records finished before that wait in a short queue, so a cold start's
 * first requests are counted too. Without a bound meter and no export pending, recording costs nothing.
 */
import type { Attributes, Counter, Histogram, Meter } from '@opentelemetry/api';
import type { RequestFields } from './record.js';

/** Instrument names (Azure Monitor's customMetrics.name; docs/telemetry.md queries them). */
export const METRIC = {
  tokens: 'gateway.tokens',
  requests: 'gateway.requests',
  upstreamDuration: 'gateway.upstream.duration',
  throttles: 'gateway.throttles',
  retries: 'gateway.retries',
} as const;

interface Instruments {
  tokens: Counter;
  requests: Counter;
  upstreamDuration: Histogram;
  throttles: Counter;
  retries: Counter;
}

const QUEUE_LIMIT = 1000;
let instruments: Instruments | undefined;
let queue: RequestFields[] | undefined;

/** Makes the instruments on `meter` and records what waited for it. */
export function bindMeter(meter: Meter): void {
  instruments = {
    tokens: meter.createCounter(METRIC.tokens, { unit: '{token}', description: 'Prompt and completion tokens' }),
    requests: meter.createCounter(METRIC.requests, { unit: '{request}', description: 'Answered requests' }),
    upstreamDuration: meter.createHistogram(METRIC.upstreamDuration, {
      unit: 'ms',
      description: 'Upstream time per request, first send to end of answer, retries included',
    }),
    throttles: meter.createCounter(METRIC.throttles, { unit: '{response}', description: '429s: upstream or quota' }),
    retries: meter.createCounter(METRIC.retries, { unit: '{retry}', description: 'Upstream attempts retried' }),
  };
  const waiting = queue ?? [];
  queue = undefined;
  for (const fields of waiting) observe(instruments, fields);
}

/** Drops the instruments (tests). */
export function unbindMeter(): void {
  instruments = undefined;
  queue = undefined;
}

/** An exporter is on its way: keep records until its meter is bound. */
export function expectMeter(): void {
  if (!instruments) queue ??= [];
}

export function recordMetrics(fields: RequestFields): void {
  if (instruments) observe(instruments, fields);
  else if (queue && queue.length < QUEUE_LIMIT) queue.push(fields);
}

const statusClass = (status: number) => (status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : 'other');

function observe(m: Instruments, f: RequestFields): void {
  m.requests.add(1, { route: f.route, status_class: statusClass(f.status), status: f.status });
  const deployment = f.deployment ?? 'none';
  if (f.prompt_tokens) m.tokens.add(f.prompt_tokens, { deployment, caller: f.caller, kind: 'prompt' });
  if (f.completion_tokens) m.tokens.add(f.completion_tokens, { deployment, caller: f.caller, kind: 'completion' });
  if (f.upstream_ms !== undefined) {
    const attributes: Attributes = { deployment, status_class: statusClass(f.status) };
    if (f.backend) attributes.backend = f.backend;
    m.upstreamDuration.record(f.upstream_ms, attributes);
  }
  if (f.throttled) m.throttles.add(f.throttled, { deployment, source: 'upstream' });
  if (f.quota === 'refused') m.throttles.add(1, { deployment, source: 'quota' });
  for (const cause of f.retry_causes ?? []) m.retries.add(1, { deployment, cause });
}
