// telemetry.ts: the OpenTelemetry SDK, configured by the standard OTEL_* variables
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { NodeSDK } from '@opentelemetry/sdk-node';

export function startTelemetry(): NodeSDK {
  const sdk = new NodeSDK({ instrumentations: [new HttpInstrumentation(), new UndiciInstrumentation()] });
  sdk.start();
  return sdk;
}
