import type { Socket } from 'socket.io';
import type { WsOutgoingFrame, WsTransportConnection } from '../../core/model/ws-transport.js';
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

  constructor(readonly client: Socket) {}

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

  /** The websocket's unsent bytes; long-polling buffers in engine.io and reports 0 (see README, socket.io). */
  get bufferedAmount(): number {
    return this.webSocket?.bufferedAmount ?? 0;
  }

  send(frame: WsOutgoingFrame): number {
    this.lastPacketBytes = -1;
    const socket = this.client;
    if (frame.kind === 'event') {
      const data = 'data' in frame || frame.text === undefined ? frame.data : (JSON.parse(frame.text) as { data?: unknown }).data;
      if (frame.meta) socket.emit(frame.event, data, ioMetaArgument(frame.meta));
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
