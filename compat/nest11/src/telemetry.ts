// Started before anything else is loaded, as an app's tracing module would be.
// Spans go to memory; GET /test/spans reads them (see spans.controller.ts).
import { NodeSDK } from '@opentelemetry/sdk-node';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

export const spanExporter = new InMemorySpanExporter();

export const sdk = new NodeSDK({
  serviceName: 'tracing-ws-compat-nest11',
  instrumentations: [],
  spanProcessors: [new SimpleSpanProcessor(spanExporter)],
});
sdk.start();
