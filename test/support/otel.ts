import { NodeSDK, type NodeSDKConfiguration } from '@opentelemetry/sdk-node';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { waitFor } from './wait.js';

/** The real OpenTelemetry NodeSDK, exporting to memory. One per test file. */
export class TestTelemetry {
  readonly exporter = new InMemorySpanExporter();
  private readonly sdk: NodeSDK;

  constructor(config: Partial<NodeSDKConfiguration> = {}) {
    this.sdk = new NodeSDK({ instrumentations: [], ...config, spanProcessors: [new SimpleSpanProcessor({ exporter: this.exporter })] });
  }

  start(): this {
    this.sdk.start();
    return this;
  }

  spans(): ReadableSpan[] {
    return this.exporter.getFinishedSpans();
  }

  async waitForSpan(predicate: (s: ReadableSpan) => boolean, timeoutMs = 5000): Promise<ReadableSpan> {
    return waitFor(() => this.spans().find(predicate), timeoutMs, 'span');
  }

  async shutdown(): Promise<void> {
    await this.sdk.shutdown();
  }
}
