import type { Socket } from 'socket.io-client';
import { formatTraceparent, messageTrace, newSpanId, newTraceId } from '../trace-context.js';
import { TypedEmitter } from '../typed.emitter.js';
import { WsClientError } from '../ws-client.error.js';
import type { WsSentMessage } from '../ws-client.events.js';
import { WsMessages } from '../ws-error.messages.js';
import { WS_CLIENT_ERROR_CODES as E, WS_CLIENT_REPORT_EVENT, type WsFrameMeta } from '../ws-protocol.js';
import { WsOutageRecorder } from '../ws-outage.report.js';
import { withTraceparent, type IoAuth } from './io-auth.js';
import { readIoRefusal, type IoRefusalError } from './io-refusal.error.js';
import { IO_CLOSE_EVENT, IO_EXCEPTION_EVENT, IO_RECONNECT_CODES, IO_SESSION_EVENT, ioMetaArgument, readIoAck, readIoException, takeIoMeta } from './io-wire.js';
import type { IoClientEvents, IoReply, IoSession, TracingIoClientOptions } from './tracing-io.events.js';

/** Options of one `send()` or `request()`. */
export interface IoSendOptions {
  /** Continue this trace (32 hex or UUID) instead of starting a new one. */
  traceId?: string;
}

/** Options of one `request()`. */
export interface IoRequestOptions extends IoSendOptions {
  /** @defaultValue the client's `requestTimeoutMs` */
  timeoutMs?: number;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 10000;

/**
 * Tracing for an app's own socket.io-client `Socket` talking to a
 * `TracingIoAdapter` gateway: a fresh `traceparent` in the `auth` payload of every
 * connection attempt, the session's trace id (`traceId`, the `session` event), a
 * W3C traceparent and an id on every message (`send`, `request`), acknowledgements
 * read into `{ data, traceId }`, and the server's refusals and errors as
 * `WsClientError`s with user-facing texts and the trace id to quote.
 * socket.io-client stays the app's: this never imports it.
 *
 * @example
 * const chat = new TracingIoClient(io('/chat', { auth: { token: 'alice-token' } }));
 * chat.on('refused', (err) => showError(err.userMessage, err.supportText));
 * await chat.connect();
 * const reply = await chat.request('message', { room: 'lobby', text: 'hi' });
 * show(`sent, trace ${reply.traceId}`);
 */
export class TracingIoClient extends TypedEmitter<IoClientEvents> {
  /** The user-facing texts (overridable with the `messages` option). */
  readonly messages: WsMessages;
  private readonly requestTimeoutMs: number;
  private readonly sampled: boolean;
  private current: IoSession | undefined;
  private readonly outage = new WsOutageRecorder();
  /** The close code the server announced before the transport closed (`tracing-ws:close`). */
  private announcedClose: number | undefined;
  private sequence = 0;
  private readonly idPrefix = newSpanId().slice(0, 6);

  /**
   * Wraps `socket`: call it right after `io()` (the first attempt's auth payload is
   * read when its transport opens) or create the socket with `autoConnect: false`
   * and call {@link connect}.
   */
  constructor(
    readonly socket: Socket,
    options: TracingIoClientOptions = {},
  ) {
    super();
    this.messages = new WsMessages(options.messages);
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    if (!(this.requestTimeoutMs >= 0)) throw new Error(`TracingIoClient: requestTimeoutMs must be a number >= 0, got ${String(options.requestTimeoutMs)}`);
    this.sampled = options.sampled ?? true;
    socket.auth = withTraceparent(socket.auth as IoAuth | undefined, () => formatTraceparent(newTraceId(), newSpanId(), this.sampled));
    socket.on(IO_SESSION_EVENT, (session: IoSession) => {
      this.current = { traceId: session.traceId, connectionId: session.connectionId };
      // After an outage, the server hears what the client saw, with this session's trace id.
      const report = this.outage.opened();
      if (report && options.reportOutages !== false) socket.emit(WS_CLIENT_REPORT_EVENT, report);
      this.emit('session', this.current);
    });
    socket.on('disconnect', (reason: string) => {
      // Closing on purpose is not an outage.
      if (reason === 'io client disconnect') return;
      this.outage.closed(this.announcedClose ?? 1006, true);
      this.announcedClose = undefined;
    });
    socket.on('connect_error', (err: Error) => {
      this.outage.closed(1006, false);
      const refusal = readIoRefusal(err, this.messages);
      if (refusal) this.emit('refused', refusal);
    });
    socket.on(IO_CLOSE_EVENT, (close: { code: number; reason?: string }) => {
      const reason = close.reason ?? '';
      this.announcedClose = close.code;
      this.emit('closing', { code: close.code, reason, message: this.messages.close(close.code, reason), reconnects: IO_RECONNECT_CODES.includes(close.code) });
    });
    socket.on(IO_EXCEPTION_EVENT, (...args: unknown[]) => {
      const data = readIoException(args);
      if (data) this.emit('error', WsClientError.from(data, this.messages));
    });
  }

  /** The trace id of the current (or last) session, `''` before the first: show it as the session's reference. */
  get traceId(): string {
    return this.current?.traceId ?? '';
  }

  /** The server's id of the current (or last) connection, `''` before the first. */
  get connectionId(): string {
    return this.current?.connectionId ?? '';
  }

  /**
   * Connects (unless the socket already is, or is trying to) and resolves with the
   * session; rejects with the {@link IoRefusalError} if the server refuses it.
   * Network failures do not reject: socket.io-client keeps retrying.
   */
  connect(): Promise<IoSession> {
    if (this.socket.connected && this.current) return Promise.resolve(this.current);
    return new Promise<IoSession>((resolve, reject) => {
      const stopSession = this.on('session', (session) => {
        stopRefused();
        stopSession();
        resolve(session);
      });
      const stopRefused = this.on('refused', (refusal: IoRefusalError) => {
        stopRefused();
        stopSession();
        reject(refusal);
      });
      if (!this.socket.active) this.socket.connect();
    });
  }

  /** Disconnects for good (socket.io-client does not reconnect until `connect()`). */
  close(): void {
    this.socket.disconnect();
  }

  /**
   * Emits `event` with `data` and a trailing `{ $meta: { traceparent, id } }` (the
   * handler never sees it). While socket.io-client reconnects, it buffers the emit;
   * throws a `NOT_CONNECTED` {@link WsClientError} when the socket gave up.
   */
  send(event: string, data?: unknown, options: IoSendOptions = {}): WsSentMessage {
    const sent = this.outgoing(event, options);
    this.socket.emit(event, data === undefined ? null : data, ioMetaArgument({ traceparent: sent.traceparent, id: sent.id }));
    return sent;
  }

  /**
   * Emits with an acknowledgement and resolves with it read: `{ data, traceId, id,
   * meta }`. Rejects with a {@link WsClientError}: the server's error (its code and
   * text, the failed message's trace id), `TIMEOUT`, `DISCONNECTED` (the connection
   * dropped first) or `NOT_CONNECTED`.
   */
  request<T = unknown>(event: string, data?: unknown, options: IoRequestOptions = {}): Promise<IoReply<T>> {
    let sent: WsSentMessage;
    try {
      sent = this.outgoing(event, options);
    } catch (err) {
      return Promise.reject(err);
    }
    const timeoutMs = options.timeoutMs ?? this.requestTimeoutMs;
    const meta = ioMetaArgument({ traceparent: sent.traceparent, id: sent.id });
    const sentAt = Date.now();
    return new Promise<IoReply<T>>((resolve, reject) => {
      this.socket.timeout(timeoutMs).emit(event, data === undefined ? null : data, meta, (err: Error | null, value: unknown) => {
        if (err) {
          // socket.io-client's two reasons: "socket has been disconnected", "operation has timed out".
          const dropped = /disconnected/.test(err.message);
          const text = dropped ? `The connection closed before "${event}" was answered` : `No reply to "${event}" within ${timeoutMs} ms`;
          return reject(this.clientError(dropped ? E.disconnected : E.timeout, text, event, sent));
        }
        this.outage.roundTrip(Date.now() - sentAt);
        const ack = readIoAck(value);
        if ('error' in ack) return reject(WsClientError.from(ack.error, this.messages, { event, id: sent.id }));
        resolve({ data: ack.data as T, traceId: ack.meta.traceId, id: sent.id, meta: ack.meta });
      });
    });
  }

  /**
   * Listens to a server event (a broadcast, a push) with the server's `meta` (its
   * `traceId`) taken off the arguments; returns a function that stops listening.
   */
  subscribe<T = unknown>(event: string, listener: (data: T, meta: WsFrameMeta) => void): () => void {
    const wrapped = (...args: unknown[]): void => {
      const { args: own, meta } = takeIoMeta(args);
      listener(own[0] as T, meta);
    };
    this.socket.on(event, wrapped);
    return () => void this.socket.off(event, wrapped);
  }

  /** The id and trace of an outgoing message; throws `NOT_CONNECTED` when the socket will not connect again by itself. */
  private outgoing(event: string, options: IoSendOptions): WsSentMessage {
    if (!this.socket.connected && !this.socket.active) throw this.clientError(E.notConnected, 'The socket is not connected', event);
    const { traceId, traceparent } = messageTrace(options.traceId, newTraceId, this.sampled, 'TracingIoClient');
    return { id: `${this.idPrefix}-${(++this.sequence).toString(36)}`, traceId, traceparent };
  }

  private clientError(code: string, message: string, event: string, sent?: WsSentMessage): WsClientError {
    return new WsClientError({
      code,
      message,
      userMessage: this.messages.error(code, message),
      traceId: sent?.traceId,
      supportText: this.messages.support(sent?.traceId),
      retryable: true,
      event,
      id: sent?.id,
    });
  }
}
