import type { Span } from '@opentelemetry/api';
import type { WsUser } from '../model/ws-connection.context.js';
import type { WsTransportName } from '../model/ws-transport.js';
import type { WsCredentialSource } from '../options/tracing-ws.options.js';

/** Why a handshake was refused: the `reason` label and log field. */
export type WsRejectionReason =
  | 'origin_not_allowed'
  | 'missing_credentials'
  | 'invalid_credentials'
  | 'auth_error'
  | 'internal_error'
  | 'shutting_down'
  | 'connection_limit'
  | 'ip_limit'
  | 'bearer_only_subprotocol';

/** A handshake that passed: becomes the connection's context when the transport accepts it. */
export interface WsAcceptedHandshake {
  readonly accepted: true;
  readonly connectionId: string;
  readonly traceId: string;
  readonly span: Span;
  readonly user: WsUser | undefined;
  readonly remoteAddress: string | undefined;
  readonly userAgent: string | undefined;
  readonly origin: string | undefined;
  readonly path: string;
  readonly transport: WsTransportName;
  readonly startedAt: number;
  /** The handshake asked for force-sampling and `allowForceSampling` accepted. */
  readonly forceSample: boolean;
}

/** A refused handshake: the transport answers with `status` before any connection exists. */
export interface WsRejectedHandshake {
  readonly accepted: false;
  readonly status: number;
  readonly reason: WsRejectionReason;
  readonly traceId: string;
  /** What the client should do differently, for the body of the refusal (a fixed text, never the client's). */
  readonly hint: string | undefined;
}

export type WsHandshakeOutcome = WsAcceptedHandshake | WsRejectedHandshake;

/** A credential found on the connection request. */
export interface WsCredential {
  readonly token: string;
  readonly source: WsCredentialSource;
}
