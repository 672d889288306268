import type { Attributes, Context } from '@opentelemetry/api';
import type { WebSocket } from 'ws';
import type { WsEventMetrics, WsGatewayMetrics } from '../telemetry/ws.metrics.js';
import { CONNECTION_STATE } from '../tracing-ws.internal-constants.js';
import type { WsConnectionContext } from './ws-connection-context.js';

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
  /** Attributes every message span starts with (also what a sampler sees). */
  readonly spanAttributes: Attributes;
  /** CLS store for connection-level code (handleConnection / handleDisconnect). */
  readonly store: Record<symbol, unknown>;
  handlers: Map<string, WsHandlerEntry>;
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
  closed: boolean;
}

type WithState = WebSocket & { [CONNECTION_STATE]?: WsConnectionState };

/** The state of `socket`, when it was accepted by a {@link TracingWsAdapter}. */
export function getConnectionState(socket: unknown): WsConnectionState | undefined {
  return (socket as WithState | undefined)?.[CONNECTION_STATE];
}

export function setConnectionState(socket: WebSocket, state: WsConnectionState): void {
  (socket as WithState)[CONNECTION_STATE] = state;
}
