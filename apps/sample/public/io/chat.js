// The chat page's script when the sample serves socket.io (TRANSPORT=socket.io): the
// same markup as the ws page, talking to namespace /chat through the official
// socket.io-client (served by the socket.io server) and TracingIoClient. No build step.
import { io } from '/socket.io/socket.io.esm.min.js';
import { TracingIoClient } from '/vendor/tracing-ws-client/socket.io/index.js';
import { WsClientError, newTraceId } from '/vendor/tracing-ws-client/index.js';

const ui = Object.fromEntries(
  ['status', 'status-text', 'login', 'login-form', 'token', 'chat', 'me', 'session-trace', 'join-form', 'room', 'rooms', 'logout-button', 'banner', 'banner-text', 'retry-button', 'messages', 'composer', 'text', 'send-button'].map((id) => [
    id.replace(/-(\w)/g, (_, c) => c.toUpperCase()),
    document.getElementById(id),
  ]),
);

/** @type {TracingIoClient | undefined} */
let chat;
let activeRoom;
/** Rooms to join again after a reconnection: socket.io forgets a socket's rooms with it. */
const joined = new Set();
/** Own messages by trace id, waiting for their broadcast. */
const outgoing = new Map();

/** `document.createElement` with properties and children. */
function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children.filter((c) => c !== undefined));
  return node;
}

function status(state, text) {
  ui.status.dataset.state = state;
  ui.statusText.textContent = text;
}

function banner(text, refused = false) {
  ui.banner.hidden = text === undefined;
  ui.banner.classList.toggle('banner--refused', refused);
  ui.bannerText.textContent = text ?? '';
}

/** A trace id the user can copy and quote. */
function traceButton(traceId, label = 'trace') {
  const button = el('button', { type: 'button', className: 'trace-tag', title: 'Copy this id (quote it to support)', textContent: `${label} ${traceId}` });
  button.dataset.traceId = traceId;
  button.addEventListener('click', () => navigator.clipboard?.writeText(traceId).catch(() => undefined));
  return button;
}

function append(item) {
  ui.messages.append(item);
  ui.messages.scrollTop = ui.messages.scrollHeight;
  return item;
}

function message({ user, room, text, traceId, mine }) {
  const clock = new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  const item = el(
    'li',
    { className: mine ? 'msg msg--mine' : 'msg' },
    el('div', { className: 'msg-head' }, el('strong', { textContent: user }), el('span', { className: 'msg-room', textContent: `#${room} · ${clock}` })),
    el('div', { className: 'msg-text', textContent: text }),
    el('div', { className: 'msg-foot' }, traceButton(traceId), el('span', { className: 'msg-state' })),
  );
  Object.assign(item.dataset, { user, traceId });
  return append(item);
}

function notice(text, kind = 'info') {
  return append(el('li', { className: `notice notice--${kind}`, textContent: text }));
}

/** A WsClientError: its user text and, when it has one, the trace id to quote. */
function failure(error) {
  const support = error.traceId ? el('div', { className: 'msg-foot' }, el('span', { textContent: chat.messages.text('support', { traceId: '' }).trim() }), traceButton(error.traceId, error.code)) : undefined;
  const item = el('li', { className: 'msg msg--error' }, el('div', { className: 'msg-text', textContent: error.userMessage }), support);
  item.dataset.code = error.code;
  if (error.traceId) item.dataset.traceId = error.traceId;
  append(item);
}

function renderRooms() {
  ui.rooms.replaceChildren(
    ...[...joined].map((room) => {
      const button = el('button', { type: 'button', className: room === activeRoom ? 'room room--active' : 'room', textContent: `#${room}` });
      button.addEventListener('click', () => {
        activeRoom = room;
        renderRooms();
      });
      return el('li', {}, button);
    }),
  );
  ui.text.disabled = !activeRoom;
  ui.sendButton.disabled = !activeRoom || !chat?.socket.connected;
  ui.text.placeholder = activeRoom ? `Message #${activeRoom}` : 'Join a room to chat';
}

function connect(token) {
  chat?.close();
  const c = (chat = new TracingIoClient(io('/chat', { auth: { token }, transports: ['websocket'], reconnectionDelayMax: 8000 })));
  let sessions = 0;
  status('connecting', 'Connecting…');
  c.on('session', (session) => {
    status('open', 'Connected');
    banner(undefined);
    ui.sessionTrace.textContent = session.traceId;
    if (sessions++ > 0) {
      notice(`Reconnected (session ${session.traceId}).`);
      for (const room of joined) {
        c.request('join', { room }).then(() => notice(`Rejoined #${room}.`), failure);
      }
    }
    renderRooms();
  });
  c.on('refused', (err) => {
    // The server refused the handshake; socket.io-client does not retry it.
    status('refused', err.status === 401 ? 'Token refused' : 'Not allowed');
    banner(err.userMessage, true);
    if (err.traceId) ui.bannerText.append(' ', chat.messages.text('support', { traceId: '' }).trim(), ' ', traceButton(err.traceId));
    ui.retryButton.textContent = 'Sign in again';
    ui.retryButton.onclick = () => ui.logoutButton.click();
    renderRooms();
  });
  c.on('closing', (e) => banner(e.message));
  c.on('error', failure);
  c.socket.on('disconnect', () => {
    status(c.socket.active ? 'reconnecting' : 'closed', c.socket.active ? 'Reconnecting…' : 'Disconnected');
    if (ui.banner.hidden) banner(c.socket.active ? 'Connection lost. Reconnecting…' : `Disconnected. Session ${c.traceId}.`);
    renderRooms();
  });
  c.socket.io.on('reconnect_attempt', (attempt) => status('reconnecting', `Reconnecting (attempt ${attempt})…`));
  c.subscribe('message', (data) => {
    const own = outgoing.get(data.traceId);
    if (!own) return void message({ ...data, mine: false });
    outgoing.delete(data.traceId);
    own.querySelector('.msg-state').textContent = 'delivered';
  });
  c.subscribe('announcement', (data, meta) => notice(`📣 #${data.room}: ${data.text}${meta.traceId ? ` (trace ${meta.traceId})` : ''}`, 'announcement'));
  ui.retryButton.textContent = 'Retry now';
  // socket.io-client has no "retry now": stopping its backoff and connecting again skips the wait.
  ui.retryButton.onclick = () => c.socket.connected || c.socket.disconnect().connect();
}

ui.loginForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const token = ui.token.value.trim();
  if (!token) return;
  ui.login.hidden = true;
  ui.chat.hidden = false;
  ui.me.textContent = token.replace(/-token$/, '');
  ui.messages.replaceChildren();
  joined.clear();
  activeRoom = undefined;
  connect(token);
  renderRooms();
  ui.room.focus();
});

for (const button of document.querySelectorAll('[data-token]')) {
  button.addEventListener('click', () => {
    ui.token.value = button.dataset.token;
    ui.loginForm.requestSubmit();
  });
}

ui.joinForm.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const room = ui.room.value.trim();
  if (!chat || !room) return;
  try {
    const reply = await chat.request('join', { room });
    joined.add(room);
    activeRoom = room;
    notice(`Joined #${room} (${reply.data.members} online).`);
  } catch (err) {
    if (err instanceof WsClientError) failure(err);
  }
  renderRooms();
  ui.text.focus();
});

ui.composer.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const text = ui.text.value;
  if (!chat || !activeRoom || !text.trim()) return;
  // The trace id is chosen here so the message shows it before the server answers.
  const traceId = newTraceId();
  const item = message({ user: ui.me.textContent, room: activeRoom, text, traceId, mine: true });
  const state = item.querySelector('.msg-state');
  state.textContent = 'sending…';
  outgoing.set(traceId, item);
  ui.text.value = '';
  try {
    const reply = await chat.request('message', { room: activeRoom, text }, { traceId });
    state.textContent = `delivered to ${reply.data.delivered}`;
  } catch (err) {
    item.classList.add('msg--failed');
    state.textContent = 'not sent';
    if (err instanceof WsClientError) failure(err);
  } finally {
    outgoing.delete(traceId);
  }
});

ui.logoutButton.addEventListener('click', () => {
  chat?.close();
  chat = undefined;
  outgoing.clear();
  ui.chat.hidden = true;
  banner(undefined);
  ui.login.hidden = false;
  status('idle', 'Signed out');
});
