import type { RequestFields } from './record.js';

export type LogFormat = 'text' | 'json';

/** JSON: one object per line, what Application Insights stores as the trace's message (docs/telemetry.md). */
export const jsonLine = (fields: RequestFields): string => JSON.stringify(fields);

/**
 * The readable line `npm start` prints (the function's line as before, with tokens and timings):
 * `POST chatCompletions → 200 123.4ms tokens=25+40 upstream=98.1ms ttfb=40.2ms deployment=gpt-4o-mini … x-request-id=…`
 */
export function textLine(f: RequestFields): string {
  let line = `${f.method} ${f.function} → ${f.status} ${f.duration_ms}ms`;
  if (f.prompt_tokens !== undefined || f.completion_tokens !== undefined) {
    line += ` tokens=${f.prompt_tokens ?? 0}+${f.completion_tokens ?? 0}${f.tokens_source === 'service' ? '(counted)' : ''}`;
  }
  if (f.upstream_ms !== undefined) line += ` upstream=${f.upstream_ms}ms`;
  if (f.ttfb_ms !== undefined) line += ` ttfb=${f.ttfb_ms}ms`;
  if (f.deployment) line += ` deployment=${f.deployment}`;
  if (f.backend) line += ` backend=${f.backend}`;
  if (f.retries) line += ` retries=${f.retries}(${f.retry_causes?.join(',')})`;
  if (f.quota && f.quota !== 'off') line += ` quota=${f.quota}`;
  if (f.stream) line += ` stream=${f.stream}`;
  if (f.error_code) line += ` error=${f.error_code}`;
  line += ` caller=${f.caller} x-request-id=${f.request_id}`;
  if (f.apim_request_id) line += ` apim-request-id=${f.apim_request_id}`;
  return line;
}

export const formatRecord = (fields: RequestFields, format: LogFormat): string =>
  format === 'json' ? jsonLine(fields) : textLine(fields);
