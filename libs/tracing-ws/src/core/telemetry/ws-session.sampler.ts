import { trace, type Attributes, type Context, type Link, type SpanKind } from '@opentelemetry/api';
import { WS_LINK_TYPES, WS_SPAN_ATTRIBUTES as A } from '../model/tracing-ws.names.js';
import type { WsSamplerLike } from './ws-force.sampler.js';

/** `SamplingDecision` values of the SDK. */
const NOT_RECORD = 0;
const RECORD_AND_SAMPLED = 2;

/**
 * A sampler for the NodeSDK that traces sessions whole or not at all. In trace
 * mode `message` (the default) each message starts its own trace, linked to its
 * connection's handshake span; a ratio sampler would keep 10 % of every
 * session's messages. This one gives such a message span the decision of the
 * handshake it links to, so that at 10 % sampling 10 % of sessions are traced
 * completely. Everything else goes to `delegate`: the handshake span itself (the
 * session's one decision, e.g. a ratio), and any span with a parent — a message
 * that continues a client's `traceparent` follows the client's sampled flag (the
 * client asked for that trace), the `close` span its handshake.
 *
 * Compose it under `WsForceSampler` so that chosen users stay always traced:
 *
 * @example
 * const sampler = new WsForceSampler({
 *   delegate: new WsSessionSampler({ delegate: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0.1) }) }),
 * });
 * new NodeSDK({ sampler }).start();
 */
export class WsSessionSampler implements WsSamplerLike {
  private readonly delegate: WsSamplerLike;

  constructor(options: { delegate: WsSamplerLike }) {
    this.delegate = options.delegate;
  }

  shouldSample(context: Context, traceId: string, spanName: string, spanKind: SpanKind, attributes: Attributes, links: Link[]): ReturnType<WsSamplerLike['shouldSample']> {
    if (!trace.getSpanContext(context)) {
      const session = links.find((l) => l.attributes?.[A.linkType] === WS_LINK_TYPES.handshake);
      if (session) return { decision: (session.context.traceFlags & 1) === 1 ? RECORD_AND_SAMPLED : NOT_RECORD };
    }
    return this.delegate.shouldSample(context, traceId, spanName, spanKind, attributes, links);
  }

  toString(): string {
    return `WsSessionSampler{delegate=${this.delegate.toString()}}`;
  }
}
