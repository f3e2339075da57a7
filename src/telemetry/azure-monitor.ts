/**
 * Exports the metrics to Application Insights (customMetrics) with Azure Monitor's OpenTelemetry exporter,
 * authenticated by the app's managed identity: the resource accepts Entra ID only, and the identity holds
 * Monitoring Metrics Publisher. Imported on demand after the first answer (emit.ts).
 * Why the exporter and a MeterProvider rather than the whole distro (@azure/monitor-opentelemetry): the
 * Functions host already records requests and traces, so only metrics are needed here, and the distro (tracing,
 * logs, instrumentations) would add 2.3 MB of bundle and several times the load time (docs/benchmarks.md).
 */
import { AzureMonitorMetricExporter } from '@azure/monitor-opentelemetry-exporter';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { azureCredential } from '../azure/credential.js';
import { bindMeter } from './metrics.js';

export const METER_NAME = 'azure-openai-functions-api';
/** Azure Monitor aggregates per minute; one export a minute keeps the request path free of network calls. */
const EXPORT_INTERVAL_MS = 60_000;

let provider: MeterProvider | undefined;

export async function startAzureMonitor(connectionString: string, clientId: string | undefined): Promise<void> {
  if (provider) return;
  const credential = await azureCredential({ AZURE_CLIENT_ID: clientId });
  const exporter = new AzureMonitorMetricExporter({ connectionString, credential });
  provider = new MeterProvider({
    readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: EXPORT_INTERVAL_MS })],
  });
  bindMeter(provider.getMeter(METER_NAME));
  // The platform stops an instance with SIGTERM: send what the last minute counted.
  process.once('SIGTERM', () => void provider?.shutdown().catch(() => undefined));
}
