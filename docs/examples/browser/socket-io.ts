import { WsClientError } from '@tracing-ws/client';
import { TracingIoClient } from '@tracing-ws/client/socket.io';
import { io } from 'socket.io-client';
import { show, showError, status } from './ui.js'; // your page's own functions

// Your socket, your options: the helper adds a fresh traceparent to `auth` for every connection.
const chat = new TracingIoClient(io('/chat', { auth: { token: 'alice-token' } }));

chat.on('session', (s) => status(`Connected (session ${s.traceId})`));
chat.on('refused', (err) => showError(err.userMessage, err.supportText)); // socket.io-client stops after it
chat.on('closing', (e) => status(e.reconnects ? `${e.message} Reconnecting…` : e.message));
chat.on('error', (err) => showError(err.userMessage, err.supportText)); // an `exception` event
chat.subscribe<{ user: string; text: string; traceId: string }>('message', (m) => show(m.user, m.text, m.traceId));

try {
  await chat.connect();
  await chat.request('join', { room: 'lobby' });
  const reply = await chat.request<{ delivered: number }>('message', { room: 'lobby', text: 'hello' }, { timeoutMs: 5000 });
  show('me', 'hello', reply.traceId);
} catch (err) {
  if (err instanceof WsClientError) showError(err.userMessage, err.supportText); // an IoRefusalError is one too
}
