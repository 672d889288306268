import type { Attributes, Context, Link } from '@opentelemetry/api';
import { CONNECTION_STATE } from '../model/tracing-ws.tokens.js';
import type { WsConnectionContext } from '../model/ws-connection.context.js';
import type { WsCloseInitiator } from '../model/ws-protocol.js';
import type { WsClsStore } from '../model/ws-cls.store.js';
import type { WsTransportConnection } from '../model/ws-transport.js';
import type { WsEventMetrics, WsGatewayMetrics } from '../telemetry/ws.metrics.js';

/** A message handler as Nest hands it to the adapter, with what dispatch needs precomputed. */
export interface WsHandlerEntry {
  /** Nest's handler: called with the payload and the event name (ws) or the acknowledgement callback (socket.io). */
  readonly callback: (data: unknown, second: unknown) => unknown;
  readonly spanName: string;
  readonly metrics: WsEventMetrics;
  /** The transport calls handlers with the acknowledgement callback as second argument. */
  readonly passesAck: boolean;
  /** The handler acknowledges itself (`@Ack()`): its result is not sent as the acknowledgement. */
  readonly ackHandledManually: boolean;
}

/** A rate-limit bucket: one token per frame. */
export interface WsRateBucket {
  take(now?: number): boolean;
}

/** Everything the library keeps per connection, whatever the transport. Internal. */
export interface WsConnectionState {
  readonly transport: WsTransportConnection;
  readonly context: WsConnectionContext;
  readonly metrics: WsGatewayMetrics;
  /** OTel context holding the handshake span context (parent in `connection` mode). */
  readonly handshakeContext: Context;
  /** Attributes every message span starts with: what a sampler may decide on (user, force flag). */
  readonly spanAttributes: Attributes;
  /** Attributes set on recording message spans only: what no sampler needs. */
  readonly recordedAttributes: Attributes;
  /** Links of a message span to the handshake span, built once (trace mode `message`). */
  readonly handshakeLinks: Link[] | undefined;
  /** CLS store for connection-level code (handleConnection / handleDisconnect). */
  readonly store: WsClsStore;
  /** Reports an exception of a gateway's connection hook (see TracedGateway). */
  readonly reportHookError: (err: unknown, hook: 'handleConnection' | 'handleDisconnect') => void;
  handlers: Map<string, WsHandlerEntry>;
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
  closed: boolean;
  /** Answered the last ping (or sent something) since the previous heartbeat tick. */
  alive: boolean;
  /** Invalid or unknown frames in the current window, and when the window began. */
  invalidCount: number;
  invalidWindowStart: number;
  /** Rate-limit bucket; undefined when rate limiting is off. */
  readonly bucket: WsRateBucket | undefined;
  /** Frames refused by the rate limit in a row. */
  refusedInARow: number;
  /** Since when the send buffer has been above the backpressure threshold (0: it is not). */
  congestedSince: number;
  /**
   * The code the server closed with when the peer's close frame can never arrive
   * (the transport stops reading after a protocol error), so metrics and logs
   * show 1009 or 1013, not 1006.
   */
  serverCloseCode: number | undefined;
  /** Who decided the connection ends, once someone on the server's side did (see `closeConnection`). */
  closedBy: WsCloseInitiator | undefined;
  /** The transport is corked until the end of this turn of the event loop (see WsFrameSender). */
  corked: boolean;
  /** The error code of the last error frame sent to the client (the admin connections API shows it). */
  lastErrorCode: string | undefined;
  /** Cancels the timer that closes the connection when the user's credential expires. */
  cancelExpiry: (() => void) | undefined;
}

type WithState = { [CONNECTION_STATE]?: WsConnectionState };

/** The state of a client (what a gateway handler receives), when a tracing adapter accepted it. */
export function getConnectionState(client: unknown): WsConnectionState | undefined {
  return typeof client === 'object' && client !== null ? (client as WithState)[CONNECTION_STATE] : undefined;
}

export function setConnectionState(client: object, state: WsConnectionState): void {
  (client as WithState)[CONNECTION_STATE] = state;
}
