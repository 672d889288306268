import { Inject, Injectable } from '@nestjs/common';
import type { SpanContext } from '@opentelemetry/api';
import { getOrCreateMetric } from '@willsoto/nestjs-prometheus';
import type { Counter, Gauge, Histogram } from 'prom-client';
import { RESOLVED_OPTIONS } from '../model/tracing-ws.tokens.js';
import type { ResolvedTracingWsOptions } from '../options/tracing-ws.options.js';
import { WS_EVENT_LABELS, WS_METRIC_LABELS as L, WS_METRIC_NAMES as N } from '../model/tracing-ws.names.js';
import { WS_CLOSE_CODE_LABELS } from '../model/ws-protocol.js';
import type { WsTransportName } from '../model/ws-transport.js';
import { ExemplarSeries, getOrCreateExemplarHistogram } from './ws-exemplars.js';

type CounterChild = ReturnType<Counter<string>['labels']>;
type HistogramChild = ReturnType<Histogram<string>['labels']>;
type GaugeChild = ReturnType<Gauge<string>['labels']>;

/** Metric children of one event on one gateway, looked up once and reused per message. */
export interface WsEventMetrics {
  readonly received: CounterChild;
  readonly sent: CounterChild;
  /** Bytes of the frames counted by `sent`, as written to the transport. */
  readonly bytesSent: CounterChild;
  /**
   * Observes a handled message's duration under its outcome; with `metrics.exemplars`,
   * a sampled `span` may become the exemplar of the bucket (see `ExemplarSeries`).
   */
  handled(seconds: number, failed: boolean, span: SpanContext): void;
  error(code: string): void;
}

/** Metric children of one gateway path on one transport. */
export interface WsGatewayMetrics {
  readonly active: GaugeChild;
  readonly opened: CounterChild;
  readonly connectionDuration: HistogramChild;
  readonly handshakeDuration: HistogramChild;
  readonly sizeIn: HistogramChild;
  readonly sizeOut: HistogramChild;
  readonly heartbeatTimeouts: CounterChild;
  readonly rateLimited: CounterChild;
  readonly droppedBackpressure: CounterChild;
  closed(code: number): void;
  rejected(reason: string): void;
  /** Children for a registered event, or for `unknown` / `invalid` / `error`. */
  event(name: string): WsEventMetrics;
}

/** Event label values per gateway; past them every new name counts as `other`. */
const MAX_EVENTS_PER_GATEWAY = 256;

const KNOWN_CLOSE_CODES = new Set(WS_CLOSE_CODE_LABELS);

/**
 * The library's Prometheus metrics (README, "Metrics"), registered once in prom-client's default
 * registry (the one `PrometheusModule` serves), however often the module is compiled.
 */
@Injectable()
export class WsMetrics {
  private readonly gateways = new Map<string, WsGatewayMetrics>();
  private readonly connectionsActive: Gauge<string>;
  private readonly connectionsOpened: Counter<string>;
  private readonly connectionsClosed: Counter<string>;
  private readonly connectionDuration: Histogram<string>;
  private readonly handshakeRejections: Counter<string>;
  private readonly handshakeDuration: Histogram<string>;
  private readonly messagesReceived: Counter<string>;
  private readonly messagesSent: Counter<string>;
  private readonly bytesSent: Counter<string>;
  private readonly messageSize: Histogram<string>;
  private readonly messageDuration: Histogram<string>;
  private readonly messageErrors: Counter<string>;
  private readonly heartbeatTimeouts: Counter<string>;
  private readonly rateLimited: Counter<string>;
  private readonly messagesDropped: Counter<string>;
  private readonly durationBuckets: readonly number[];
  private readonly exemplars: boolean;

  constructor(@Inject(RESOLVED_OPTIONS) options: ResolvedTracingWsOptions) {
    const { prefix, durationBuckets, sizeBuckets, connectionDurationBuckets, exemplars } = options.metrics;
    this.durationBuckets = durationBuckets;
    this.exemplars = exemplars;
    const make = <T>(type: 'Counter' | 'Gauge' | 'Histogram', name: string, help: string, labelNames: string[], buckets?: number[]): T =>
      getOrCreateMetric(type, { name: prefix + name, help, labelNames, ...(buckets ? { buckets } : {}) }) as T;
    this.connectionsActive = make('Gauge', N.connectionsActive, 'Open WebSocket connections.', [L.path, L.transport]);
    this.connectionsOpened = make('Counter', N.connectionsOpened, 'WebSocket connections accepted.', [L.path, L.transport]);
    this.connectionsClosed = make('Counter', N.connectionsClosed, 'WebSocket connections closed, by close code.', [L.path, L.transport, L.code]);
    this.connectionDuration = make('Histogram', N.connectionDuration, 'Lifetime of closed WebSocket connections.', [L.path, L.transport], connectionDurationBuckets);
    this.handshakeRejections = make('Counter', N.handshakeRejections, 'Upgrades refused before the 101, by reason.', [L.path, L.transport, L.reason]);
    this.handshakeDuration = make('Histogram', N.handshakeDuration, 'Time from upgrade request to 101 or refusal.', [L.path, L.transport], durationBuckets);
    this.messagesReceived = make('Counter', N.messagesReceived, 'Frames received, by handler event (or unknown / invalid).', [L.path, L.transport, L.event]);
    this.messagesSent = make('Counter', N.messagesSent, 'Frames sent, by event.', [L.path, L.transport, L.event]);
    this.bytesSent = make('Counter', N.bytesSent, 'Bytes of the frames sent, by event (as written to the transport).', [L.path, L.transport, L.event]);
    this.messageSize = make('Histogram', N.messageSize, 'Frame size in bytes, by direction.', [L.path, L.transport, L.direction], sizeBuckets);
    this.messageDuration = getOrCreateExemplarHistogram({
      name: prefix + N.messageDuration,
      help: 'Handler duration, by event and outcome.',
      labelNames: [L.path, L.transport, L.event, L.outcome],
      buckets: durationBuckets,
    });
    this.messageErrors = make('Counter', N.messageErrors, 'Error frames sent, by event and error code.', [L.path, L.transport, L.event, L.code]);
    this.heartbeatTimeouts = make('Counter', N.heartbeatTimeouts, 'Connections terminated for not answering pings.', [L.path, L.transport]);
    this.rateLimited = make('Counter', N.rateLimited, 'Frames refused by the rate limit.', [L.path, L.transport]);
    this.messagesDropped = make('Counter', N.messagesDropped, 'Outgoing frames dropped, by reason (backpressure: the client does not read).', [L.path, L.transport, L.reason]);
  }

  /** The (cached) children of gateway `path` on `transport`. */
  gateway(path: string, transport: WsTransportName): WsGatewayMetrics {
    const key = `${transport} ${path}`;
    let g = this.gateways.get(key);
    if (g) return g;
    const events = new Map<string, WsEventMetrics>();
    const m = this;
    g = {
      active: m.connectionsActive.labels(path, transport),
      opened: m.connectionsOpened.labels(path, transport),
      connectionDuration: m.connectionDuration.labels(path, transport),
      handshakeDuration: m.handshakeDuration.labels(path, transport),
      sizeIn: m.messageSize.labels(path, transport, 'in'),
      sizeOut: m.messageSize.labels(path, transport, 'out'),
      heartbeatTimeouts: m.heartbeatTimeouts.labels(path, transport),
      rateLimited: m.rateLimited.labels(path, transport),
      droppedBackpressure: m.messagesDropped.labels(path, transport, 'backpressure'),
      closed: (code) => m.connectionsClosed.labels(path, transport, KNOWN_CLOSE_CODES.has(code) ? String(code) : 'other').inc(),
      rejected: (reason) => m.handshakeRejections.labels(path, transport, reason).inc(),
      event(name) {
        let e = events.get(name);
        if (!e) {
          // Names come from handler patterns and server code, never from clients;
          // the cap still guarantees bounded series if an app echoes client input.
          // (`other` itself is always created, beyond the cap.)
          if (events.size >= MAX_EVENTS_PER_GATEWAY && name !== WS_EVENT_LABELS.other) return this.event(WS_EVENT_LABELS.other);
          const ok = m.durationSeries(path, transport, name, 'ok');
          const failed = m.durationSeries(path, transport, name, 'error');
          e = {
            received: m.messagesReceived.labels(path, transport, name),
            sent: m.messagesSent.labels(path, transport, name),
            bytesSent: m.bytesSent.labels(path, transport, name),
            handled: (seconds, isFailed, span) => (isFailed ? failed : ok).observe(seconds, span),
            error: (code) => m.messageErrors.labels(path, transport, name, code).inc(),
          };
          events.set(name, e);
        }
        return e;
      },
    };
    // The fixed labels exist from the start, so dashboards show 0 rather than no data.
    g.event(WS_EVENT_LABELS.unknown);
    g.event(WS_EVENT_LABELS.invalid);
    this.gateways.set(key, g);
    return g;
  }

  private durationSeries(path: string, transport: WsTransportName, event: string, outcome: 'ok' | 'error'): ExemplarSeries {
    const labels = { [L.path]: path, [L.transport]: transport, [L.event]: event, [L.outcome]: outcome };
    return new ExemplarSeries(this.messageDuration, labels, this.durationBuckets, this.exemplars);
  }
}
