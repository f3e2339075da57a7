import type { HttpRequest } from '@azure/functions';
import type { z } from 'zod';
import { settings } from '../config.js';
import { badRequest, fromZodError, payloadTooLarge } from './errors.js';

/** Reads the body as UTF-8 text, refusing (413) as soon as it passes the limit instead of buffering it all. */
export async function readBodyText(request: HttpRequest, limit = settings().MAX_REQUEST_BODY_BYTES): Promise<string> {
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > limit) throw payloadTooLarge(limit);
  const body = request.body;
  if (!body) return '';
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw payloadTooLarge(limit);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

/** Parses and validates a JSON body; every failure is a 4xx naming what is wrong. */
export async function readJson<S extends z.ZodType>(request: HttpRequest, schema: S): Promise<z.output<S>> {
  // Any content type is read as JSON: `curl -d` sends form-urlencoded, and OpenAI's API is as lenient.
  const text = await readBodyText(request);
  if (text.trim() === '') throw badRequest('Request body is required and must be a JSON object.', null, 'missing_body');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw badRequest('Request body is not valid JSON.', null, 'invalid_json');
  }
  return parseWith(schema, value);
}

export function parseWith<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw fromZodError(result.error);
  return result.data;
}

/** Query parameters as a plain object, for validation with a zod schema. */
export function queryObject(request: HttpRequest): Record<string, string> {
  return Object.fromEntries(request.query.entries());
}
