// Preloaded by handshake-rate.mjs --with-sdk: the NodeSDK with a BatchSpanProcessor and an exporter that discards.
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace';
const exporter = { export: (spans, cb) => cb({ code: 0 }), shutdown: async () => {}, forceFlush: async () => {} };
new NodeSDK({ spanProcessors: [new BatchSpanProcessor({ exporter })], instrumentations: [] }).start();
