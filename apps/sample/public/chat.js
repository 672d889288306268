// The sample's chat page: @tracing-ws/client in a browser, no build step.
import { TracingWsClient, WsClientError, newTraceId } from '/vendor/tracing-ws-client/index.js';

const $ = (id) => document.getElementById(id);
const ui = {
  status: $('status'),
  statusText: $('status-text'),
  login: $('login'),
  loginForm: $('login-form'),
  token: $('token'),
  chat: $('chat'),
  me: $('me'),
  sessionTrace: $('session-trace'),
  joinForm: $('join-form'),
  room: $('room'),
  rooms: $('rooms'),
  logout: $('logout-button'),
  banner: $('banner'),
  bannerText: $('banner-text'),
  retry: $('retry-button'),
  messages: $('messages'),
  composer: $('composer'),
  text: $('text'),
  send: $('send-button'),
};

/** @type {TracingWsClient | undefined} */
let client;
let activeRoom;
let countdown;
/** Own messages by trace id, waiting for their broadcast. */
const outgoing = new Map();

function setStatus(state, text) {
  ui.status.dataset.state = state;
  ui.statusText.textContent = text;
}

function time() {
  return new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** A trace id the user can copy and quote. */
function traceTag(traceId, label = 'trace') {
  const tag = document.createElement('button');
  tag.type = 'button';
  tag.className = 'trace-tag';
  tag.dataset.traceId = traceId;
  tag.title = 'Copy this id (quote it to support)';
  tag.textContent = `${label} ${traceId}`;
  tag.addEventListener('click', () => navigator.clipboard?.writeText(traceId).catch(() => undefined));
  return tag;
}

function scrollDown() {
  ui.messages.scrollTop = ui.messages.scrollHeight;
}

function addMessage({ user, room, text, traceId, mine, recovered = false }) {
  const item = document.createElement('li');
  item.className = `msg${mine ? ' msg--mine' : ''}${recovered ? ' msg--recovered' : ''}`;
  item.dataset.user = user;
  item.dataset.traceId = traceId;
  const head = document.createElement('div');
  head.className = 'msg-head';
  const who = document.createElement('strong');
  who.textContent = user;
  const where = document.createElement('span');
  where.className = 'msg-room';
  where.textContent = `#${room} · ${time()}`;
  head.append(who, where);
  const body = document.createElement('div');
  body.className = 'msg-text';
  body.textContent = text;
  const foot = document.createElement('div');
  foot.className = 'msg-foot';
  const state = document.createElement('span');
  state.className = 'msg-state';
  // Sent while this page was away, replayed by the server's room history.
  if (recovered) state.textContent = 'recovered';
  foot.append(traceTag(traceId), state);
  item.append(head, body, foot);
  ui.messages.append(item);
  scrollDown();
  return item;
}

function addNotice(text, kind = 'info') {
  const item = document.createElement('li');
  item.className = `notice notice--${kind}`;
  item.textContent = text;
  ui.messages.append(item);
  scrollDown();
  return item;
}

/** An error with its friendly text and the trace id to quote. */
function addError(error) {
  const item = document.createElement('li');
  item.className = 'msg msg--error';
  item.dataset.code = error.code;
  if (error.traceId) item.dataset.traceId = error.traceId;
  const text = document.createElement('div');
  text.className = 'msg-text';
  text.textContent = error.userMessage;
  item.append(text);
  if (error.traceId) {
    const foot = document.createElement('div');
    foot.className = 'msg-foot';
    const quote = document.createElement('span');
    quote.textContent = (client?.messages.text('support', { traceId: '' }) ?? 'Quote this id to support:').trim();
    foot.append(quote, traceTag(error.traceId, error.code));
    item.append(foot);
  }
  ui.messages.append(item);
  scrollDown();
}

function renderRooms() {
  ui.rooms.replaceChildren(
    ...(client?.rooms ?? []).map((room) => {
      const li = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      button.className = room === activeRoom ? 'room room--active' : 'room';
      button.textContent = `#${room}`;
      button.addEventListener('click', () => {
        activeRoom = room;
        renderRooms();
      });
      li.append(button);
      return li;
    }),
  );
  const canSend = Boolean(activeRoom) && client?.state === 'open';
  ui.text.disabled = !activeRoom;
  ui.send.disabled = !canSend;
  ui.text.placeholder = activeRoom ? `Message #${activeRoom}` : 'Join a room to chat';
}

function showBanner(text, traceId, refused = false) {
  ui.banner.hidden = false;
  ui.banner.classList.toggle('banner--refused', refused);
  ui.bannerText.textContent = text;
  if (traceId) ui.bannerText.append(' ', traceTag(traceId, 'trace'));
}

function stopCountdown() {
  clearInterval(countdown);
  countdown = undefined;
}

function startCountdown(e) {
  stopCountdown();
  const tick = () => {
    const seconds = Math.max(0, Math.ceil((e.retryAt - Date.now()) / 1000));
    setStatus('reconnecting', `Reconnecting in ${seconds} s (attempt ${e.attempt})`);
    showBanner(`${e.message} Reconnecting in ${seconds} s…`);
  };
  tick();
  countdown = setInterval(tick, 250);
}

function connect(token) {
  client?.close();
  client = new TracingWsClient({
    url: '/chat',
    token,
    reconnect: { baseMs: 500, capMs: 8000 },
    // Browsers cannot see protocol pings: an answered echo proves the connection alive.
    heartbeat: { intervalMs: 20000, timeoutMs: 10000, pingEvent: 'echo', pingData: 'ping' },
  });
  const c = client;
  c.on('connecting', (e) => {
    stopCountdown();
    setStatus('connecting', e.attempt ? `Connecting (attempt ${e.attempt})…` : 'Connecting…');
    ui.sessionTrace.textContent = e.traceId;
  });
  c.on('open', (e) => {
    stopCountdown();
    setStatus('open', 'Connected');
    ui.banner.hidden = true;
    ui.sessionTrace.textContent = e.traceId;
    if (e.attempt > 0) addNotice(`Reconnected (session ${e.traceId}).`);
    renderRooms();
  });
  c.on('reconnecting', (e) => {
    startCountdown(e);
    renderRooms();
  });
  c.on('closed', (e) => {
    stopCountdown();
    if (e.refusal) {
      // The server refused the handshake (its check endpoint says why): retrying cannot help.
      setStatus('refused', e.refusal.status === 401 ? 'Token refused' : 'Not allowed');
      showBanner(`${e.message} ${client?.messages.text('support', { traceId: '' }).trim() ?? ''}`, e.traceId, true);
      ui.retry.dataset.action = 'sign-in';
      ui.retry.textContent = 'Sign in again';
      ui.retry.hidden = false;
      renderRooms();
      return;
    }
    setStatus('closed', e.gaveUp ? 'Offline' : 'Disconnected');
    const why = e.wasOpen ? e.message : `${e.message} Check the token and the server.`;
    showBanner(`${why} Session ${e.traceId}.`);
    ui.retry.hidden = true;
    renderRooms();
  });
  c.on('rejoined', ({ room }) => addNotice(`Rejoined #${room}.`));
  c.on('error', (error) => addError(error));
  // Missed messages come back through the same subscription, in order; these say how it went.
  c.on('recovered', ({ room, count }) => count > 0 && addNotice(`${count} message${count === 1 ? '' : 's'} in #${room} sent while you were away.`, 'recovered'));
  c.on('recoveryFailed', ({ room }) => addNotice(`Some messages in #${room} could not be recovered; reload to see everything.`, 'unrecovered'));
  c.subscribe('message', (data, frame) => {
    const own = outgoing.get(data.traceId);
    ui.me.textContent = own ? data.user : ui.me.textContent;
    if (own) {
      outgoing.delete(data.traceId);
      own.querySelector('.msg-state').textContent = 'delivered';
      return;
    }
    addMessage({ user: data.user, room: data.room, text: data.text, traceId: data.traceId, mine: false, recovered: frame.meta?.recovered === true });
  });
  c.subscribe('announcement', (data, frame) => addNotice(`📣 #${data.room}: ${data.text}${frame.meta?.traceId ? ` (trace ${frame.meta.traceId})` : ''}`, 'announcement'));
  ui.retry.dataset.action = 'retry';
  ui.retry.textContent = 'Retry now';
  ui.retry.hidden = false;
  c.connect().catch(() => undefined);
}

ui.loginForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const token = ui.token.value.trim();
  if (!token) return;
  ui.login.hidden = true;
  ui.chat.hidden = false;
  ui.me.textContent = token.replace(/-token$/, '');
  ui.messages.replaceChildren();
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
  if (!client || !room) return;
  try {
    const reply = await client.join(room);
    activeRoom = room;
    addNotice(`Joined #${room} (${reply.data.members} online).`);
  } catch (err) {
    if (err instanceof WsClientError) addError(err);
  }
  renderRooms();
  ui.text.focus();
});

ui.composer.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const text = ui.text.value;
  if (!client || !activeRoom || !text.trim()) return;
  // The trace id is chosen here so the message shows it before the server answers.
  const traceId = newTraceId();
  const item = addMessage({ user: ui.me.textContent, room: activeRoom, text, traceId, mine: true });
  item.querySelector('.msg-state').textContent = 'sending…';
  outgoing.set(traceId, item);
  ui.text.value = '';
  try {
    const reply = await client.request('message', { room: activeRoom, text }, { traceId });
    outgoing.delete(traceId);
    item.querySelector('.msg-state').textContent = `delivered to ${reply.data.delivered}`;
  } catch (err) {
    outgoing.delete(traceId);
    item.classList.add('msg--failed');
    item.querySelector('.msg-state').textContent = 'not sent';
    if (err instanceof WsClientError) addError(err);
  }
});

ui.retry.addEventListener('click', () => (ui.retry.dataset.action === 'sign-in' ? ui.logout.click() : client?.reconnectNow()));

ui.logout.addEventListener('click', () => {
  client?.close();
  client = undefined;
  stopCountdown();
  outgoing.clear();
  ui.chat.hidden = true;
  ui.banner.hidden = true;
  ui.login.hidden = false;
  setStatus('idle', 'Signed out');
});
