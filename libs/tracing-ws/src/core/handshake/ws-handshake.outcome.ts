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
  | 'bearer_only_subprotocol'
  | 'handshake_limit';

/** A handshake that passed: becomes the connection's context when the transport accepts it. */
export interface WsAcceptedHandshake {
  readonly accepted: true;
  readonly connectionId: string;
  readonly traceId: string;
  readonly span: Span;
  readonly user: WsUser | undefined;
  readonly remoteAddress: string | undefined;
  /** The TCP peer (a proxy's address behind one), for `network.peer.*`. */
  readonly peer: { readonly address: string | undefined; readonly port: number | undefined };
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
  /** Seconds before the client may try again (`Retry-After`), for a refusal that says so. */
  readonly retryAfterSeconds?: number;
}

export type WsHandshakeOutcome = WsAcceptedHandshake | WsRejectedHandshake;

/** How {@link WsHandshakeGuard.check} runs. */
export interface WsHandshakeCheckMode {
  /**
   * Run the checks for the handshake check endpoint: no slot is taken (only
   * whether one is free is asked), no force-sampling, and steps that only an
   * upgrade can fail are skipped.
   */
  readonly dryRun?: boolean;
}

/**
 * The answer of the handshake check endpoint (its JSON body; its HTTP status is
 * `status`): what an upgrade with the same credential and trace context would get.
 */
export interface WsHandshakeCheckResult {
  /** 200 when the upgrade would be accepted, else the status of its refusal (401, 403, 429, 503, …). */
  readonly status: number;
  /** The refusal's reason, as in the log line and the metric; `check_limit` when this address made too many checks; null when accepted. */
  readonly reason: WsRejectionReason | 'check_limit' | null;
  /** The check's trace id, the one its log line carries; null over the check limit. */
  readonly traceId: string | null;
}

/** A check's result, and how long to wait before the next one when over the limit. */
export interface WsHandshakeCheckOutcome extends WsHandshakeCheckResult {
  readonly retryAfterSeconds: number | undefined;
}

/** A credential found on the connection request. */
export interface WsCredential {
  readonly token: string;
  readonly source: WsCredentialSource;
}
