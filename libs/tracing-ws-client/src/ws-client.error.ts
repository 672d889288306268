import type { WsErrorData } from './ws-protocol.js';
import type { WsMessages } from './ws-error.messages.js';

/** What {@link WsClientError} is built from. */
export interface WsClientErrorInit {
  code: string;
  /** The server's (or the client's) technical message. */
  message: string;
  userMessage: string;
  traceId?: string;
  supportText?: string;
  retryable: boolean;
  details?: unknown;
  /** The event of the request that failed, when there was one. */
  event?: string;
  /** `meta.id` of the request that failed. */
  id?: string;
}

/**
 * An error frame from the server, or a client-side failure (timeout, not
 * connected, connection lost), with a text fit for users and the trace id
 * they can quote to support.
 */
export class WsClientError extends Error {
  override readonly name = 'WsClientError';
  /** `BAD_REQUEST`, …, or a client code: `TIMEOUT`, `NOT_CONNECTED`, `DISCONNECTED`. */
  readonly code: string;
  /** Friendly, translatable text (see `messages` option). */
  readonly userMessage: string;
  /** The trace id of the failed message: show it ("quote this id to support"). */
  readonly traceId: string | undefined;
  /** "Quote this id to support: …", `undefined` without a trace id. */
  readonly supportText: string | undefined;
  /** Whether sending the same request again may succeed. */
  readonly retryable: boolean;
  readonly details: unknown;
  readonly event: string | undefined;
  readonly id: string | undefined;

  constructor(init: WsClientErrorInit) {
    super(init.message || init.userMessage);
    this.code = init.code;
    this.userMessage = init.userMessage;
    this.traceId = init.traceId;
    this.supportText = init.supportText;
    this.retryable = init.retryable;
    this.details = init.details;
    this.event = init.event;
    this.id = init.id;
  }

  /** Builds the error of an error frame (or of a client-side code) with texts from `messages`. */
  static from(data: WsErrorData, messages: WsMessages, request?: { event?: string; id?: string }): WsClientError {
    return new WsClientError({
      code: data.code,
      message: data.message,
      userMessage: messages.error(data.code, data.message),
      traceId: data.traceId,
      supportText: messages.support(data.traceId),
      retryable: data.retryable,
      details: data.details,
      event: request?.event,
      id: request?.id,
    });
  }
}
