import { TracingWsClient, WsClientError } from '@tracing-ws/client';
import { show, showError, status } from './ui.js'; // your page's own functions

const chat = new TracingWsClient({ url: '/chat', token: 'alice-token' });

chat.on('connecting', (e) => status(`Connecting… (session ${e.traceId})`));
chat.on('open', () => status('Connected'));
chat.on('reconnecting', (e) => status(`${e.message} Reconnecting in ${Math.ceil(e.delayMs / 1000)} s (attempt ${e.attempt})`));
chat.on('closed', (e) => status(`${e.message} Session ${e.traceId}`));
chat.on('error', (err) => showError(err.userMessage, err.supportText));

chat.subscribe<{ user: string; text: string; traceId: string }>('message', (m) => show(m.user, m.text, m.traceId));

await chat.connect();
await chat.join('lobby'); // joined again after every reconnect
try {
  const reply = await chat.request('message', { room: 'lobby', text: 'hello' }, { timeoutMs: 5000 });
  show('me', 'hello', reply.traceId);
} catch (err) {
  if (err instanceof WsClientError) showError(err.userMessage, err.supportText); // "Quote this id to support: 4bf9…"
}
