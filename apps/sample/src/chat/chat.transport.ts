import type { INestApplicationContext, Type, WebSocketAdapter } from '@nestjs/common';
import type { SampleTransport } from '../config.js';
import { ChatIoGateway } from './chat-io.gateway.js';
import { ChatGateway } from './chat.gateway.js';

/**
 * The chat gateway of `transport`. Only that one is registered: an adapter serves
 * every gateway of the app, and the ws adapter would mount a socket.io gateway
 * (it has no `path`, only a namespace) on `/`.
 */
export function chatGateway(transport: SampleTransport): Type {
  return transport === 'socket.io' ? ChatIoGateway : ChatGateway;
}

/**
 * The app's WebSocket adapter for `transport` (Nest takes one per app). The
 * socket.io entry is loaded only when it is used: an app on ws never loads socket.io.
 */
export async function chatAdapter(app: INestApplicationContext, transport: SampleTransport): Promise<WebSocketAdapter> {
  if (transport === 'socket.io') {
    const { TracingIoAdapter } = await import('@tracing-ws/nestjs/socket.io');
    return new TracingIoAdapter(app);
  }
  const { TracingWsAdapter } = await import('@tracing-ws/nestjs/ws');
  return new TracingWsAdapter(app);
}
