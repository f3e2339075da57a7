/**
 * The HTTP side of request telemetry: `defineFunction` opens a record per request and hands it to the route (its
 * call context carries it into the model-call pipeline); it is written through the invocation's logger.
 */
import type { HttpRequest, InvocationContext } from '@azure/functions';
import { settings } from '../config.js';
import { callerHash } from '../telemetry/caller.js';
import { emitRecord, type TelemetrySettings } from '../telemetry/emit.js';
import { RequestRecord } from '../telemetry/record.js';
import { principalOf } from './principal.js';

let cachedFor: unknown;
let cached: { telemetry: TelemetrySettings; salt: string } | undefined;

/** What the records need of the settings, worked out once per settings object (they do not change at run time). */
function telemetrySettings(): { telemetry: TelemetrySettings; salt: string } {
  try {
    const s = settings();
    if (cachedFor !== s || !cached) {
      cached = {
        telemetry: {
          format: s.LOG_FORMAT,
          connectionString: s.APPLICATIONINSIGHTS_CONNECTION_STRING,
          clientId: s.AZURE_CLIENT_ID,
        },
        salt: s.TELEMETRY_CALLER_SALT,
      };
      cachedFor = s;
    }
    return cached;
  } catch {
    // Invalid settings answer 500 from the route itself; the record still gets written.
    return { telemetry: { format: process.env.LOG_FORMAT === 'json' ? 'json' : 'text' }, salt: 'invalid-settings' };
  }
}

function callerOf(request: HttpRequest, salt: string): string {
  try {
    return callerHash(principalOf(request)?.id, salt);
  } catch {
    return callerHash(null, salt);
  }
}

export function openRecord(
  request: HttpRequest,
  method: string,
  context: InvocationContext,
  fn: { name: string; route: string },
  requestId: string,
): RequestRecord {
  const { telemetry, salt } = telemetrySettings();
  const identity = { function: fn.name, route: fn.route, method, caller: callerOf(request, salt) };
  return new RequestRecord(requestId, identity, (fields) => emitRecord(fields, (line) => context.log(line), telemetry));
}
