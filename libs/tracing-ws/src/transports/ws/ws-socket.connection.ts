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

  /** Every frame is JSON text; a reply that names no event is sent as the handler returned it. */
  send(frame: WsOutgoingFrame): number {
    let text: string;
    if (frame.kind === 'event') text = frame.text ?? jsonFrameText(frame.event, frame.data, frame.meta);
    else if (frame.kind === 'error') text = jsonFrameText('error', frame.data, frame.meta);
    else text = JSON.stringify(frame.value);
    this.client.send(text);
    return Buffer.byteLength(text);
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
