import { IO_SESSION_EVENT } from '@tracing-ws/nestjs/socket.io';
import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';

/** What `tracing-ws:session` carries. */
export interface IoSession {
  traceId: string;
  connectionId: string;
}

/** What a refused socket.io handshake's `connect_error` carries. */
export type IoConnectError = Error & { data?: { code: string; status: number; traceId: string } };

/**
 * Official socket.io-client sockets on the websocket transport, closed together.
 * Reconnection stays on (as in an app) with short delays, so a retry storm would show.
 */
export class IoClients {
  private readonly sockets: Socket[] = [];

  /** A socket to `url` (namespace included), connecting at once. */
  open(url: string, options: Partial<ManagerOptions & SocketOptions> = {}): Socket {
    const socket = io(url, { transports: ['websocket'], forceNew: true, reconnectionDelay: 50, reconnectionDelayMax: 100, ...options });
    this.sockets.push(socket);
    return socket;
  }

  /** A socket that the server accepted: resolves with it and its session once `tracing-ws:session` arrives; rejects on `connect_error`. */
  async connect(url: string, options: Partial<ManagerOptions & SocketOptions> = {}, timeoutMs = 5000): Promise<{ socket: Socket; session: IoSession }> {
    const socket = this.open(url, options);
    const session = await new Promise<IoSession>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        socket.off(IO_SESSION_EVENT, onSession);
        socket.off('connect_error', onRefused);
      };
      const onSession = (s: IoSession): void => {
        done();
        resolve(s);
      };
      const onRefused = (err: IoConnectError): void => {
        done();
        reject(new Error(`refused: ${err.message} ${JSON.stringify(err.data)}`));
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no session within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.on(IO_SESSION_EVENT, onSession);
      socket.on('connect_error', onRefused);
    });
    return { socket, session };
  }

  closeAll(): void {
    for (const socket of this.sockets.splice(0)) socket.close();
  }
}

/** The arguments of the next `event` on `socket` (the first one when `all` is not asked for). */
export function nextEvent<T>(socket: Socket, event: string, timeoutMs = 5000): Promise<T> {
  return nextEventArgs(socket, event, timeoutMs).then((args) => args[0] as T);
}

/** Every argument of the next `event` on `socket` (an emitted event's trailing `{ $meta }` included). */
export function nextEventArgs(socket: Socket, event: string, timeoutMs = 5000): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const listener = (...args: unknown[]): void => {
      clearTimeout(timer);
      resolve(args);
    };
    const timer = setTimeout(() => {
      socket.off(event, listener);
      reject(new Error(`no "${event}" within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once(event, listener);
  });
}
