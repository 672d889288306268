import type { Socket } from 'socket.io';
import type { WsOutgoingFrame, WsTransportConnection } from '../../core/model/ws-transport.js';
import type { WsFrameMeta } from '../../core/model/ws-protocol.js';
import { IO_CLOSE_EVENT, IO_EXCEPTION_EVENT, ioAckError, ioAckValue, ioMetaArgument } from '../../core/model/io-wire.js';
import { reconnectsAfter } from './io-protocol.js';

/** What engine.io's websocket transport holds: the `ws` WebSocket and, under it, the TCP socket. */
interface EngineWebSocket {
  readonly bufferedAmount: number;
  readonly isPaused?: boolean;
  pause?(): void;
  resume?(): void;
  terminate?(): void;
  readonly _socket?: { cork(): void; uncork(): void; once(event: 'drain', listener: () => void): void; readonly destroyed: boolean };
}

/** engine.io's connection, as far as this transport reads it (not all of it is typed). */
interface EngineConnection {
  readonly transport: { readonly name: string; readonly socket?: EngineWebSocket };
  close(discard?: boolean): void;
  on(event: 'packet' | 'packetCreate', listener: (packet: { type: string; data?: unknown }) => void): void;
  on(event: 'flush', listener: (buffer: readonly unknown[]) => void): void;
}

/**
 * Bytes of the packets engine.io holds in its own write buffer, not yet handed
 * to the transport: a websocket whose peer stops reading never calls back, so
 * engine.io queues there, out of the websocket's `bufferedAmount`.
 */
class EngineQueue {
  private sizes: number[] = [];
  private head = 0;
  bytes = 0;

  created(size: number): void {
    this.sizes.push(size);
    this.bytes += size;
  }

  flushed(count: number): void {
    for (let i = 0; i < count && this.head < this.sizes.length; i++) this.bytes -= this.sizes[this.head++]!;
    if (this.head === this.sizes.length) {
      this.sizes = [];
      this.head = 0;
    }
  }
}

/**
 * A socket.io `Socket` (one namespace connection) as the core sees it. Frames
 * become emitted events and acknowledgements; sizes are the encoded packets'
 * bytes, taken from engine.io's `packetCreate` as the packet is written.
 */
export class IoSocketConnection implements WsTransportConnection {
  /** Bytes of the last message packet engine.io received on this connection (read as socket.io emits its event). */
  lastInBytes = 0;
  /** Bytes of the last packet engine.io created for this connection (read right after an emit). */
  lastPacketBytes = -1;
  /** The close code the server chose, when it closed the connection itself. */
  closeCode: number | undefined = undefined;

  private readonly queue = new EngineQueue();

  constructor(readonly client: Socket) {
    const engine = this.engine;
    engine.on('packet', (packet) => {
      if (packet.type === 'message') this.lastInBytes = byteLength(packet.data);
    });
    engine.on('packetCreate', (packet) => {
      this.lastPacketBytes = byteLength(packet.data);
      this.queue.created(this.lastPacketBytes);
    });
    engine.on('flush', (buffer) => this.queue.flushed(buffer.length));
  }

  private get engine(): EngineConnection {
    return this.client.conn as unknown as EngineConnection;
  }

  /** The `ws` WebSocket under the connection while its transport is websocket (not long-polling). */
  private get webSocket(): EngineWebSocket | undefined {
    const transport = this.engine.transport;
    return transport.name === 'websocket' ? transport.socket : undefined;
  }

  get isOpen(): boolean {
    return this.client.connected;
  }

  /** Unsent bytes: engine.io's write buffer plus, on the websocket transport, the websocket's. */
  get bufferedAmount(): number {
    return this.queue.bytes + (this.webSocket?.bufferedAmount ?? 0);
  }

  send(frame: WsOutgoingFrame): number {
    this.lastPacketBytes = -1;
    const socket = this.client;
    if (frame.kind === 'event') {
      // A broadcast relayed from another instance arrives as its ws frame text only: data and meta are in it.
      const relayed = 'data' in frame || frame.text === undefined ? undefined : (JSON.parse(frame.text) as { data?: unknown; meta?: WsFrameMeta });
      const data = relayed ? relayed.data : frame.data;
      const meta = frame.meta ?? relayed?.meta;
      if (meta) socket.emit(frame.event, data, ioMetaArgument(meta));
      else socket.emit(frame.event, data);
    } else if (frame.kind === 'error') {
      if (frame.ack) frame.ack(ioAckError(frame.data, frame.meta));
      else socket.emit(IO_EXCEPTION_EVENT, frame.data, ioMetaArgument(frame.meta));
    } else {
      if (!frame.ack) return -1;
      frame.ack(frame.meta ? ioAckValue(frame.value, frame.meta) : frame.value);
    }
    return Math.max(0, this.lastPacketBytes);
  }

  /**
   * Tells the client why (`tracing-ws:close` with `{code, reason}`), then: for a
   * code after which a client should come back (1001 going away, 1012, 1013) closes
   * the transport, so that socket.io-client reconnects (to another instance);
   * for any other code disconnects the namespace, after which it does not.
   */
  close(code: number, reason: string): void {
    if (!this.client.connected) return;
    this.closeCode = code;
    this.client.emit(IO_CLOSE_EVENT, { code, reason });
    if (reconnectsAfter(code)) this.engine.close();
    else this.client.disconnect();
  }

  terminate(): void {
    const ws = this.webSocket;
    if (ws?.terminate) ws.terminate();
    else this.engine.close(true);
  }

  /**
   * Nothing to pause: the engine.io connection may carry other namespaces, and once
   * this one is disconnected socket.io drops its packets unread (pausing the
   * websocket would also stall the engine.io close handshake for ws's 30 s).
   */
  stopReading(): void {}

  /** socket.io runs its own heartbeat (pingInterval / pingTimeout); the adapter maps `heartbeat` onto it. */
  ping(): void {}

  cork(): boolean {
    const tcp = this.webSocket?._socket;
    if (!tcp) return false;
    tcp.cork();
    return true;
  }

  uncork(): void {
    const tcp = this.webSocket?._socket;
    if (tcp && !tcp.destroyed) tcp.uncork();
  }

  pauseUntilDrained(onDrained: () => void): void {
    const ws = this.webSocket;
    if (!ws?.pause || !ws._socket || ws.isPaused) return;
    ws.pause();
    ws._socket.once('drain', () => {
      onDrained();
      if (this.client.connected) ws.resume?.();
    });
  }
}

function byteLength(data: unknown): number {
  if (typeof data === 'string') return Buffer.byteLength(data);
  if (data instanceof ArrayBuffer) return data.byteLength;
  if (ArrayBuffer.isView(data)) return data.byteLength;
  return 0;
}
