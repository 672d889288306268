// telemetry.ts, with 5 % sampling except for the users support is debugging
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { ParentBasedSampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace';
import { WsForceSampler, WsSessionSampler } from '@tracing-ws/nestjs';

export const sampler = new WsForceSampler({
  // 5 % of sessions, each traced whole: its handshake, every message, its close
  delegate: new WsSessionSampler({ delegate: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0.05) }) }),
  userIds: ['alice'], // support is debugging alice's session
});
new NodeSDK({ sampler, instrumentations: [new HttpInstrumentation(), new UndiciInstrumentation()] }).start();

sampler.forceUser('bob'); // at run time, e.g. from an admin endpoint
