import type { Attributes, Context, Link, SpanKind, TraceState } from '@opentelemetry/api';
import { WS_SPAN_ATTRIBUTES as A } from '../model/tracing-ws.names.js';

/** The OpenTelemetry SDK's `Sampler` shape (structurally, so only `@opentelemetry/api` is needed). */
export interface WsSamplerLike {
  shouldSample(context: Context, traceId: string, spanName: string, spanKind: SpanKind, attributes: Attributes, links: Link[]): { decision: number; attributes?: Attributes; traceState?: TraceState };
  toString(): string;
}

/** `SamplingDecision.RECORD_AND_SAMPLED` of the SDK. */
const RECORD_AND_SAMPLED = 2;

/**
 * A sampler for the NodeSDK that samples every span of chosen users' sessions,
 * whatever the delegate's ratio: spans whose `enduser.id` is in the user list,
 * or that carry `ws.force_sample=true` (a handshake flag that
 * `allowForceSampling` accepted). Everything else goes to `delegate`; children
 * follow their parent through a parent-based delegate.
 *
 * @example
 * const sampler = new WsForceSampler({
 *   delegate: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0.1) }),
 *   userIds: ['alice'],
 * });
 * new NodeSDK({ sampler }).start();
 * sampler.forceUser('bob'); // support can switch a user on at run time
 */
export class WsForceSampler implements WsSamplerLike {
  private readonly delegate: WsSamplerLike;
  private readonly userIds: Set<string>;

  constructor(options: { delegate: WsSamplerLike; userIds?: Iterable<string> }) {
    this.delegate = options.delegate;
    this.userIds = new Set(options.userIds ?? []);
  }

  /** Samples every later span of `userId`'s connections. */
  forceUser(userId: string): void {
    this.userIds.add(userId);
  }

  /** Stops force-sampling `userId`. */
  releaseUser(userId: string): void {
    this.userIds.delete(userId);
  }

  shouldSample(context: Context, traceId: string, spanName: string, spanKind: SpanKind, attributes: Attributes, links: Link[]): ReturnType<WsSamplerLike['shouldSample']> {
    const user = attributes[A.enduserId];
    if (attributes[A.forceSample] === true || (typeof user === 'string' && this.userIds.has(user))) {
      return { decision: RECORD_AND_SAMPLED };
    }
    return this.delegate.shouldSample(context, traceId, spanName, spanKind, attributes, links);
  }

  toString(): string {
    return `WsForceSampler{users=${this.userIds.size}, delegate=${this.delegate.toString()}}`;
  }
}
