import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { NoopSpanProcessor } from '@opentelemetry/sdk-trace';

/**
 * Starts the OpenTelemetry NodeSDK before the app is loaded, configured by the
 * standard OTEL_* variables (OTEL_TRACES_EXPORTER=otlp, OTEL_EXPORTER_OTLP_ENDPOINT,
 * OTEL_TRACES_SAMPLER, ...). With no exporter configured, spans are still made
 * (so trace ids flow into logs and frames) but exported nowhere.
 */
export function startTelemetry(): NodeSDK {
  process.env.OTEL_SERVICE_NAME ??= 'tracing-ws-sample';
  process.env.OTEL_METRICS_EXPORTER ??= 'none';
  process.env.OTEL_LOGS_EXPORTER ??= 'none';
  // Export every 128 finished spans rather than the SDK's 512: at thousands of messages a
  // second, spans that wait for a batch of 512 outlive V8's young-generation GC, and the
  // collections they cause put p99 latency at tens of ms (README, "Span batches").
  process.env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE ??= '128';
  const exporter = process.env.OTEL_TRACES_EXPORTER;
  const exportsSpans = exporter !== undefined && exporter !== '' && exporter !== 'none';
  const sdk = new NodeSDK({
    instrumentations: [
      // /metrics and /health scrapes would otherwise be a trace each.
      new HttpInstrumentation({ ignoreIncomingRequestHook: (req) => req.url === '/metrics' || req.url === '/health' }),
      new UndiciInstrumentation(),
    ],
    ...(exportsSpans ? {} : { spanProcessors: [new NoopSpanProcessor()] }),
  });
  sdk.start();
  return sdk;
}
