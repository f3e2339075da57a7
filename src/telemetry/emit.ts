/**
 * Where a finished record goes: one line through the invocation's logger (Application Insights `traces` in
 * Azure, the console locally), and the metrics. The first record also starts the Azure Monitor export, when
 * APPLICATIONINSIGHTS_CONNECTION_STRING is set, once the answer is on its way (so cold starts do not wait).
 */
import { formatRecord, type LogFormat } from './format.js';
import { expectMeter, recordMetrics } from './metrics.js';
import type { RequestFields } from './record.js';

export interface TelemetrySettings {
  format: LogFormat;
  connectionString?: string;
  clientId?: string;
}

let exporting: Promise<void> | undefined;

export function emitRecord(fields: RequestFields, log: (line: string) => void, settings: TelemetrySettings): void {
  log(formatRecord(fields, settings.format));
  if (settings.connectionString && !exporting) startExport(settings.connectionString, settings.clientId, log);
  recordMetrics(fields);
}

function startExport(connectionString: string, clientId: string | undefined, log: (line: string) => void): void {
  expectMeter();
  exporting = new Promise<void>((resolve) => setImmediate(resolve))
    .then(() => import('./azure-monitor.js'))
    .then((m) => m.startAzureMonitor(connectionString, clientId))
    .catch((error: unknown) => {
      // Metrics are lost, requests are not: say so once, by name only (a message could quote an endpoint).
      log(`telemetry: metrics export did not start (${error instanceof Error ? error.name : 'error'})`);
    });
}

/** Resolves once the export started or failed (benchmarks and tests). */
export const metricsExportStarted = (): Promise<void> | undefined => exporting;
