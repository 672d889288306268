import { backoffDelay } from './ws-backoff.js';
import { WsClientError } from './ws-client.error.js';
import type { WsClientEvents, WsClientState, WsReply, WsSentMessage } from './ws-client.events.js';
import { decideOnClose } from './ws-close.policy.js';
import { checkHandshake, type WsCheckVerdict, type WsRefusal } from './ws-handshake.check.js';
import { WsMessages } from './ws-error.messages.js';
import { WS_CLIENT_ERROR_CODES as E, WS_CLIENT_REPORT_EVENT, WS_CLOSE_CODES, WS_ROOM_EVENTS, parseFrame, readErrorData, type WsFrame, type WsFrameMeta } from './ws-protocol.js';
import { WsOutageRecorder } from './ws-outage.report.js';
import { WsRoomPositions } from './ws-room.positions.js';
import { resolveClientOptions, type ResolvedClientOptions, type TracingWsClientOptions } from './tracing-ws-client.options.js';
import { formatTraceparent, messageTrace, newSpanId, newTraceId, normalizeTraceId } from './trace-context.js';
import { TypedEmitter, type WsListener } from './typed.emitter.js';
import { WsHeartbeat } from './ws-heartbeat.js';
import { buildSocketUrl } from './ws-url.js';

type Timer = ReturnType<typeof setTimeout>;

interface Pending {
  readonly event: string;
  readonly sentAt: number;
  readonly resolve: (reply: WsReply) => void;
  readonly reject: (error: WsClientError) => void;
  readonly timer: Timer;
}

/** Options of one `send()` or `request()`. */
export interface WsSendOptions {
  /** Continue this trace (32 hex or UUID) instead of the `messageTrace` choice. */
  traceId?: string;
}

/** Options of one `request()`. */
export interface WsRequestOptions extends WsSendOptions {
  /** @defaultValue the client's `requestTimeoutMs` */
  timeoutMs?: number;
}

const OPEN = 1;
/** Browsers only let scripts close with 1000 or 3000-4999. */
const DEAD_CLOSE_CODE = WS_CLOSE_CODES.heartbeatTimeout;

/**
 * A WebSocket client for TracingWsModule gateways: one trace id per connection
 * (query string) and per message (`meta.traceparent`), the token in a
 * `bearer.<token>` subprotocol, request/reply, reconnects with backoff and full
 * jitter driven by the close code, room re-joins, dead connection detection, and
 * user-facing texts for every failure with the trace id to quote.
 *
 * @example
 * const chat = new TracingWsClient({ url: '/chat', token: 'alice-token' });
 * chat.on('reconnecting', (e) => show(`Reconnecting in ${e.delayMs} ms`));
 * await chat.connect();
 * await chat.join('lobby');
 * const reply = await chat.request('message', { room: 'lobby', text: 'hi' });
 * show(`sent, trace ${reply.traceId}`);
 */
export class TracingWsClient extends TypedEmitter<WsClientEvents> {
  /** The user-facing texts (overridable with the `messages` option). */
  readonly messages: WsMessages;
  private readonly options: ResolvedClientOptions;
  private readonly fixedTraceId: string | undefined;
  private token: TracingWsClientOptions['token'];
  private readonly reauthenticate: TracingWsClientOptions['reauthenticate'];
  private readonly handlers = new Map<string, Set<WsListener<WsFrame>>>();
  private readonly pending = new Map<string, Pending>();
  private readonly joined = new Set<string>();
  private socket: WebSocket | undefined;
  private currentState: WsClientState = 'idle';
  private currentTraceId = '';
  private attempt = 0;
  /** Bumped by every attempt and by close(): callbacks of an older one are ignored. */
  private generation = 0;
  private openedAt = 0;
  private retryTimer: Timer | undefined;
  /** What the current attempt offered, for the handshake check if it closes before opening. */
  private attempted: { socketUrl: string; bearerToken: string | undefined } | undefined;
  /** Aborts a running handshake check when the client is closed. */
  private checkAbort: AbortController | undefined;
  private readonly heartbeat: WsHeartbeat | undefined;
  private sequence = 0;
  private readonly idPrefix = newSpanId().slice(0, 6);
  private waiters: Array<{ resolve: () => void; reject: (e: WsClientError) => void }> = [];
  private readonly outage = new WsOutageRecorder();
  /** Room positions: what a re-join asks to recover, and which room broadcasts reach `subscribe` handlers. */
  private readonly positions = new WsRoomPositions({
    ask: (position) => {
      try {
        this.send(WS_ROOM_EVENTS.recover, position);
      } catch {
        // Not connected: the re-join after the reconnect asks instead.
      }
    },
    recovered: (event) => this.emit('recovered', event),
    failed: (event) => this.emit('recoveryFailed', event),
  });

  constructor(options: TracingWsClientOptions) {
    super();
    this.options = resolveClientOptions(options);
    if (options.traceId !== undefined) {
      this.fixedTraceId = normalizeTraceId(options.traceId);
      if (!this.fixedTraceId) throw new Error('TracingWsClient: traceId must be 32 hex characters (not all zeros) or a UUID');
    }
    this.token = options.token;
    this.reauthenticate = options.reauthenticate;
    this.messages = new WsMessages(options.messages);
    const heartbeat = this.options.heartbeat;
    this.heartbeat = heartbeat ? new WsHeartbeat(heartbeat, () => this.onPing(), () => this.onDead()) : undefined;
  }

  /** `idle`, `connecting`, `open`, `reconnecting` or `closed`. */
  get state(): WsClientState {
    return this.currentState;
  }

  /** The trace id of the current (or last) connection: show it as the session's reference. */
  get traceId(): string {
    return this.currentTraceId;
  }

  /** Rooms joined through {@link join}, joined again after each reconnect. */
  get rooms(): readonly string[] {
    return [...this.joined];
  }

  /**
   * Starts connecting (and reconnecting as the close codes say). Resolves when the
   * socket opens; rejects with the close's {@link WsClientError} if the client stops first.
   */
  connect(): Promise<void> {
    const done = new Promise<void>((resolve, reject) => {
      if (this.currentState === 'open') return resolve();
      this.waiters.push({ resolve, reject });
    });
    if (this.currentState === 'idle' || this.currentState === 'closed') {
      this.attempt = 0;
      void this.startAttempt();
    }
    return done;
  }

  /** Skips the backoff wait of a pending reconnect ("Retry now"). */
  reconnectNow(): void {
    if (this.currentState !== 'reconnecting') return;
    clearTimeout(this.retryTimer);
    void this.startAttempt();
  }

  /** Closes for good (no reconnect); pending requests fail with `DISCONNECTED`. */
  close(code: number = WS_CLOSE_CODES.normal, reason = ''): void {
    if (this.currentState === 'idle' || this.currentState === 'closed') return;
    const wasOpen = this.currentState === 'open';
    const socket = this.detach();
    try {
      socket?.close(code, reason);
    } catch {
      // An invalid code from the caller must not keep the client open.
      socket?.close();
    }
    this.finish(code, reason, wasOpen, false);
  }

  /** Listens to frames of one server event; returns a function that stops listening. */
  subscribe<T = unknown>(event: string, listener: (data: T, frame: WsFrame<T>) => void): () => void {
    let set = this.handlers.get(event);
    if (!set) this.handlers.set(event, (set = new Set()));
    const wrapped: WsListener<WsFrame> = (frame) => listener(frame.data as T, frame as WsFrame<T>);
    set.add(wrapped);
    return () => set.delete(wrapped);
  }

  /**
   * Sends `{event, data, meta: {id, traceparent}}`. Throws a `NOT_CONNECTED`
   * {@link WsClientError} when the socket is not open.
   */
  send(event: string, data?: unknown, options: WsSendOptions = {}): WsSentMessage {
    return this.write(event, data, options, undefined);
  }

  private write(event: string, data: unknown, options: WsSendOptions, extra: WsFrameMeta | undefined): WsSentMessage {
    const socket = this.socket;
    if (!socket || socket.readyState !== OPEN || this.currentState !== 'open') throw this.clientError(E.notConnected, 'The socket is not open', true, event);
    const fallback = (): string => (this.options.messageTrace === 'connection' ? this.currentTraceId : newTraceId());
    const { traceId, traceparent } = messageTrace(options.traceId, fallback, this.options.sampled, 'TracingWsClient.send');
    const id = `${this.idPrefix}-${(++this.sequence).toString(36)}`;
    socket.send(JSON.stringify({ event, data, meta: { ...extra, id, traceparent } }));
    return { id, traceId, traceparent };
  }

  /**
   * Sends a message and resolves with the reply that echoes its `meta.id`; rejects
   * with a {@link WsClientError}: the server's error frame, `TIMEOUT`, `NOT_CONNECTED`
   * or `DISCONNECTED`.
   */
  request<T = unknown>(event: string, data?: unknown, options: WsRequestOptions = {}): Promise<WsReply<T>> {
    return this.requestWith<T>(event, data, options, undefined);
  }

  private requestWith<T>(event: string, data: unknown, options: WsRequestOptions, extra: WsFrameMeta | undefined): Promise<WsReply<T>> {
    let sent: WsSentMessage;
    try {
      sent = this.write(event, data, options, extra);
    } catch (err) {
      return Promise.reject(err);
    }
    const timeoutMs = options.timeoutMs ?? this.options.requestTimeoutMs;
    return new Promise<WsReply<T>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(sent.id);
        const error = this.clientError(E.timeout, `No reply to "${event}" within ${timeoutMs} ms`, true, event, sent.id);
        reject(this.withTrace(error, sent.traceId));
      }, timeoutMs);
      this.pending.set(sent.id, { event, sentAt: Date.now(), resolve: resolve as (reply: WsReply) => void, reject, timer });
    });
  }

  /** Joins `room` (the `rooms.joinEvent`) and remembers it, to join again after a reconnect. */
  async join<T = unknown>(room: string, options?: WsRequestOptions): Promise<WsReply<T>> {
    const reply = await this.request<T>(this.options.rooms.joinEvent, this.options.rooms.payload(room), options);
    this.joined.add(room);
    return reply;
  }

  /** Leaves `room` and forgets it. */
  async leave<T = unknown>(room: string, options?: WsRequestOptions): Promise<WsReply<T>> {
    this.joined.delete(room);
    this.positions.forget(room);
    return this.request<T>(this.options.rooms.leaveEvent, this.options.rooms.payload(room), options);
  }

  private async startAttempt(): Promise<void> {
    const generation = ++this.generation;
    this.attempted = undefined;
    this.currentTraceId = this.fixedTraceId ?? newTraceId();
    const traceId = this.currentTraceId;
    this.setState('connecting');
    let token: string | null | undefined;
    try {
      token = typeof this.token === 'function' ? await this.token() : this.token;
    } catch {
      // A failing token source is treated like a failed connection: back off, retry.
      if (generation === this.generation) void this.onClosed(WS_CLOSE_CODES.abnormal, 'token source failed', false);
      return;
    }
    if (generation !== this.generation) return;
    const { traceParam, tokenIn } = this.options;
    const query: Record<string, string | undefined> = {
      [traceParam]: traceParam === 'traceparent' ? formatTraceparent(traceId, newSpanId(), this.options.sampled) : traceId,
    };
    const protocols = [...this.options.protocols];
    if (token) {
      if (tokenIn === 'query') query.access_token = token;
      else protocols.push(`bearer.${token}`);
    }
    let url: string;
    let socket: WebSocket;
    try {
      url = buildSocketUrl(this.options.url, query);
      socket = new this.options.WebSocket(url, protocols);
    } catch (err) {
      // A malformed URL or protocol (a token with characters a subprotocol cannot hold) never heals.
      this.finish(WS_CLOSE_CODES.normal, err instanceof Error ? err.message : String(err), false, false);
      return;
    }
    this.socket = socket;
    this.attempted = { socketUrl: url, bearerToken: token && tokenIn !== 'query' ? token : undefined };
    this.emit('connecting', { attempt: this.attempt, url: tokenIn === 'query' ? url.replace(/([?&]access_token=)[^&]*/, '$1[redacted]') : url, traceId });
    let wasOpen = false;
    socket.addEventListener('open', () => {
      if (generation !== this.generation) return;
      wasOpen = true;
      this.onOpen(socket);
    });
    socket.addEventListener('message', (ev: MessageEvent) => {
      if (generation === this.generation) this.onMessage(ev.data);
    });
    socket.addEventListener('close', (ev: CloseEvent) => {
      if (generation === this.generation) void this.onClosed(ev.code, ev.reason, wasOpen);
    });
  }

  private onOpen(socket: WebSocket): void {
    this.openedAt = Date.now();
    this.setState('open');
    this.emit('open', { attempt: this.attempt, traceId: this.currentTraceId, protocol: socket.protocol });
    this.heartbeat?.activity();
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.resolve();
    this.sendOutageReport(socket);
    this.positions.disconnected();
    for (const room of this.joined) {
      // The last position seen travels in the join frame's meta: the server replays what was missed.
      const recover = this.positions.recoverMeta(room);
      this.requestWith(this.options.rooms.joinEvent, this.options.rooms.payload(room), {}, recover ? { recover } : undefined).then(
        (reply) => this.emit('rejoined', { room, reply }),
        (err: WsClientError) => {
          if (err.code !== E.disconnected) this.joined.delete(room);
          this.emit('error', err);
        },
      );
    }
  }

  private onMessage(raw: unknown): void {
    this.heartbeat?.activity();
    const frame = parseFrame(raw);
    if (!frame) return;
    this.emit('frame', frame);
    const id = frame.meta?.id;
    const pending = id === undefined ? undefined : this.pending.get(id);
    if (pending && id !== undefined) {
      this.pending.delete(id);
      clearTimeout(pending.timer);
      this.outage.roundTrip(Date.now() - pending.sentAt);
      if (frame.event === 'error') {
        const data = readErrorData(frame) ?? { code: 'unknown', message: '', retryable: false, traceId: frame.meta?.traceId };
        pending.reject(WsClientError.from(data, this.messages, { event: pending.event, id }));
      } else {
        pending.resolve({ event: frame.event, data: frame.data, traceId: frame.meta?.traceId, id, meta: frame.meta ?? {} });
      }
      return;
    }
    if (frame.event === 'error') {
      const data = readErrorData(frame);
      if (data) this.emit('error', WsClientError.from(data, this.messages));
      return;
    }
    // Room broadcasts in order and once each; the server's history frames stop here.
    if (this.positions.onFrame(frame) !== 'deliver') return;
    const set = this.handlers.get(frame.event);
    if (set) {
      for (const listener of [...set]) {
        try {
          listener(frame);
        } catch (err) {
          queueMicrotask(() => {
            throw err;
          });
        }
      }
    }
  }

  private async onClosed(code: number, reason: string, wasOpen: boolean): Promise<void> {
    this.detach();
    this.outage.closed(code, wasOpen);
    // close() or reconnectNow() during the await below make this close stale.
    const generation = this.generation;
    const reconnect = this.options.reconnect;
    if (wasOpen && reconnect && Date.now() - this.openedAt >= reconnect.stableMs) this.attempt = 0;
    const decision = decideOnClose(code);
    let floorMs = decision.slowDown && reconnect ? reconnect.slowDownMs : 0;
    if (!wasOpen && decision.action === 'reconnect') {
      // A refused upgrade reaches a browser as 1006, like an outage: ask the server which it was.
      const verdict = await this.checkLastAttempt();
      if (generation !== this.generation) return;
      if (verdict?.kind === 'refused') return this.finish(code, reason, false, false, verdict.refusal);
      floorMs = Math.max(floorMs, verdict?.floorMs ?? 0);
    }
    if (!reconnect || decision.action === 'stop') return this.finish(code, reason, wasOpen, false);
    if (decision.action === 'reauthenticate') {
      let token: string | null | undefined;
      try {
        token = this.reauthenticate ? await this.reauthenticate({ code, reason }) : undefined;
      } catch {
        token = undefined;
      }
      if (generation !== this.generation) return;
      if (!token) return this.finish(code, reason, wasOpen, false);
      this.token = token;
    }
    this.attempt++;
    if (this.attempt > reconnect.maxAttempts) return this.finish(code, reason, wasOpen, true);
    const delayMs = decision.action === 'reauthenticate' ? 0 : backoffDelay(this.attempt, reconnect, this.options.random, floorMs);
    this.setState('reconnecting');
    this.retryTimer = setTimeout(() => void this.startAttempt(), delayMs);
    this.emit('reconnecting', { attempt: this.attempt, delayMs, retryAt: Date.now() + delayMs, code, reason, message: this.messages.close(code, reason), wasOpen, traceId: this.currentTraceId });
  }

  /** After an outage, tells the server what the client saw (a library frame, before anything else is sent). */
  private sendOutageReport(socket: WebSocket): void {
    const report = this.outage.opened();
    if (!report || !this.options.reportOutages) return;
    try {
      socket.send(JSON.stringify({ event: WS_CLIENT_REPORT_EVENT, data: report }));
    } catch {
      // The socket went away at once: its close starts a new outage.
    }
  }

  /** Asks the server's check endpoint what the last attempt got; undefined without a check. */
  private async checkLastAttempt(): Promise<WsCheckVerdict | undefined> {
    const check = this.options.handshakeCheck;
    const attempted = this.attempted;
    if (!check || !attempted) return undefined;
    const abort = (this.checkAbort = new AbortController());
    try {
      return await checkHandshake({ ...attempted, timeoutMs: check.timeoutMs, fetch: check.fetch, signal: abort.signal });
    } finally {
      if (this.checkAbort === abort) this.checkAbort = undefined;
    }
  }

  /** Stops using the current socket: its late events are ignored; pending requests fail. */
  private detach(): WebSocket | undefined {
    this.generation++;
    this.checkAbort?.abort();
    this.checkAbort = undefined;
    const socket = this.socket;
    this.socket = undefined;
    this.heartbeat?.stop();
    clearTimeout(this.retryTimer);
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) {
      clearTimeout(p.timer);
      p.reject(this.clientError(E.disconnected, `The connection closed before "${p.event}" was answered`, true, p.event));
    }
    return socket;
  }

  private finish(code: number, reason: string, wasOpen: boolean, gaveUp: boolean, refusal?: WsRefusal): void {
    this.setState('closed');
    const message = refusal ? this.messages.refused(refusal.status, refusal.reason) : this.messages.close(code, reason);
    const traceId = refusal?.traceId ?? this.currentTraceId;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) {
      w.reject(
        new WsClientError({
          code: refusal ? E.refused : `CLOSE_${code}`,
          message: refusal ? `Handshake refused: ${refusal.status} ${refusal.reason}` : reason || message,
          userMessage: message,
          traceId,
          supportText: this.messages.support(traceId),
          retryable: false,
          details: refusal,
        }),
      );
    }
    this.emit('closed', { code, reason, message, wasOpen, gaveUp, traceId, ...(refusal ? { refusal } : {}) });
  }

  /** Silence past the heartbeat settings: the peer is gone, and will never complete a closing handshake. */
  private onDead(): void {
    const socket = this.socket;
    if (!socket || this.currentState !== 'open') return;
    try {
      socket.close(DEAD_CLOSE_CODE, 'no server activity');
    } catch {
      // already closing
    }
    void this.onClosed(DEAD_CLOSE_CODE, 'no server activity', true);
  }

  private onPing(): void {
    const heartbeat = this.options.heartbeat;
    if (!heartbeat || heartbeat.pingEvent === undefined || this.currentState !== 'open') return;
    try {
      this.send(heartbeat.pingEvent, heartbeat.pingData);
    } catch {
      // not open any more: the close handler takes over
    }
  }

  private setState(state: WsClientState): void {
    this.currentState = state;
  }

  private clientError(code: string, message: string, retryable: boolean, event?: string, id?: string): WsClientError {
    return new WsClientError({ code, message, userMessage: this.messages.error(code, message), retryable, event, id });
  }

  private withTrace(error: WsClientError, traceId: string): WsClientError {
    return new WsClientError({ code: error.code, message: error.message, userMessage: error.userMessage, traceId, supportText: this.messages.support(traceId), retryable: error.retryable, event: error.event, id: error.id });
  }
}
