import type { WebSocket } from 'ws';
import { jsonFrameText } from '../../core/model/ws-protocol.js';
import type { WsOutgoingFrame, WsTransportConnection } from '../../core/model/ws-transport.js';

/** The TCP socket under a `ws` WebSocket (not part of ws's typed API). */
interface TcpSocket {
  cork(): void;
  uncork(): void;
  once(event: 'drain', listener: () => void): void;
  readonly destroyed: boolean;
}

const OPEN = 1;
/** ws options for bytes that are UTF-8 JSON: sent as a text frame. */
const TEXT_FRAME = Object.freeze({ binary: false });

/** A `ws` WebSocket as the core sees it. */
export class WsSocketConnection implements WsTransportConnection {
  private readonly tcp: TcpSocket | undefined;

  constructor(readonly client: WebSocket) {
    this.tcp = (client as unknown as { _socket?: TcpSocket })._socket;
  }

  get isOpen(): boolean {
    return this.client.readyState === OPEN;
  }

  get bufferedAmount(): number {
    return this.client.bufferedAmount;
  }

  /**
   * Every frame is JSON text; a reply that names no event is sent as the handler
   * returned it. The text is encoded once here and ws sends those bytes as they are
   * (a text frame), rather than ws encoding it and the size being counted again.
   */
  send(frame: WsOutgoingFrame): number {
    let bytes: Buffer;
    if (frame.kind === 'event') {
      if (frame.encoded) bytes = frame.encoded;
      else if (frame.text !== undefined) bytes = frame.encoded = Buffer.from(frame.text);
      else bytes = Buffer.from(jsonFrameText(frame.event, frame.data, frame.meta));
    } else if (frame.kind === 'error') bytes = Buffer.from(jsonFrameText('error', frame.data, frame.meta));
    else bytes = Buffer.from(JSON.stringify(frame.value));
    this.client.send(bytes, TEXT_FRAME);
    return bytes.length;
  }

  close(code: number, reason: string): void {
    this.client.close(code, reason);
  }

  terminate(): void {
    this.client.terminate();
  }

  stopReading(): void {
    this.client.pause();
  }

  ping(): void {
    this.client.ping();
  }

  cork(): boolean {
    if (!this.tcp) return false;
    this.tcp.cork();
    return true;
  }

  uncork(): void {
    if (this.tcp && !this.tcp.destroyed) this.tcp.uncork();
  }

  pauseUntilDrained(onDrained: () => void): void {
    const socket = this.client;
    if (socket.isPaused) return;
    socket.pause();
    this.tcp?.once('drain', () => {
      onDrained();
      if (socket.readyState === OPEN) socket.resume();
    });
  }
}
