import type { Attributes, Context, Link } from '@opentelemetry/api';
import type { WebSocket } from 'ws';
import type { WsEventMetrics, WsGatewayMetrics } from '../telemetry/ws.metrics.js';
import { CONNECTION_STATE } from '../model/tracing-ws.tokens.js';
import type { WsTokenBucket } from '../policy/ws-token.bucket.js';
import type { WsConnectionContext } from '../model/ws-connection.context.js';

/** A message handler as Nest hands it to the adapter, with what dispatch needs precomputed. */
export interface WsHandlerEntry {
  readonly callback: (data: unknown, event: string) => unknown;
  readonly spanName: string;
  readonly metrics: WsEventMetrics;
}

/** Everything the library keeps per socket. Internal. */
export interface WsConnectionState {
  readonly socket: WebSocket;
  readonly context: WsConnectionContext;
  readonly metrics: WsGatewayMetrics;
  /** OTel context holding the handshake span context (parent in `connection` mode). */
  readonly handshakeContext: Context;
  /** Attributes every message span starts with: what a sampler may decide on (user, force flag). */
  readonly spanAttributes: Attributes;
  /** CLS store for connection-level code (handleConnection / handleDisconnect). */
  readonly store: Record<symbol, unknown>;
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
  readonly bucket: WsTokenBucket | undefined;
  /** Frames refused by the rate limit in a row. */
  refusedInARow: number;
  /** Since when the send buffer has been above the backpressure threshold (0: it is not). */
  congestedSince: number;
  /**
   * The code the server closed with when the peer's close frame can never arrive
   * (ws stops reading after a protocol error), so metrics and logs show 1009, not 1006.
   */
  serverCloseCode: number | undefined;
  /** The socket is corked until the end of this turn of the event loop (see WsFrameSender). */
  corked: boolean;
  /** Links of a message span to the handshake span, built once (trace mode `message`). */
  readonly handshakeLinks: Link[] | undefined;
  /** Attributes set on recording message spans only: what no sampler needs. */
  readonly recordedAttributes: Attributes;
}

type WithState = WebSocket & { [CONNECTION_STATE]?: WsConnectionState };

/** The state of `socket`, when it was accepted by a {@link TracingWsAdapter}. */
export function getConnectionState(socket: unknown): WsConnectionState | undefined {
  return (socket as WithState | undefined)?.[CONNECTION_STATE];
}

export function setConnectionState(socket: WebSocket, state: WsConnectionState): void {
  (socket as WithState)[CONNECTION_STATE] = state;
}
