// The sample's operator page: find a user's sessions on every instance, watch them live,
// disconnect one. The token goes in an Authorization header, so the live trace is read
// with fetch (an EventSource cannot send headers); the page keeps it in memory only.

const $ = (id) => document.getElementById(id);
const form = $('find-form');
const errorBox = $('error');
let watching;

const token = () => $('admin-token').value.trim();
const user = () => $('admin-user').value.trim();
const headers = () => ({ authorization: `Bearer ${token()}` });

function showError(text) {
  errorBox.textContent = text;
  errorBox.hidden = !text;
}

/** A refusal's text for the operator: the status, never the server's body as HTML. */
function failure(res) {
  if (res.status === 401 || res.status === 403) return 'The admin token was refused.';
  if (res.status === 429) return 'Too many live traces are open; try again later.';
  return `The server answered ${res.status}.`;
}

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text ?? '';
  if (className) td.className = className;
  return td;
}

async function findSessions() {
  showError('');
  const res = await fetch(`/admin/connections?user=${encodeURIComponent(user())}`, { headers: headers() });
  if (!res.ok) return showError(failure(res));
  const listing = await res.json();
  const body = $('connections').querySelector('tbody');
  body.replaceChildren();
  for (const c of listing.connections) {
    const tr = document.createElement('tr');
    tr.dataset.connectionId = c.connectionId;
    tr.append(
      cell(c.connectionId.slice(0, 8), 'mono'),
      cell(c.traceId, 'mono trace-id'),
      cell(c.instanceId),
      cell(c.transport),
      cell(new Date(c.openedAt).toLocaleTimeString()),
      cell(`${c.messagesIn} / ${c.messagesOut}`),
      cell(c.rooms.join(', ')),
      cell(c.lastErrorCode ?? '—'),
    );
    const button = document.createElement('button');
    button.className = 'danger disconnect';
    button.textContent = 'Disconnect';
    button.addEventListener('click', () => disconnect(c.connectionId));
    const td = document.createElement('td');
    td.append(button);
    tr.append(td);
    body.append(tr);
  }
  $('connections-note').textContent = `${listing.connections.length} on ${listing.instances.length} instance(s)${listing.complete ? '' : ', some instances did not answer'}`;
}

async function disconnect(connectionId) {
  // 1012 (service restart): the user's client reconnects at once.
  const res = await fetch(`/admin/connections/${encodeURIComponent(connectionId)}?code=1012&reason=operator`, { method: 'DELETE', headers: headers() });
  if (!res.ok) return showError(failure(res));
  await findSessions();
}

function describe(e) {
  switch (e.type) {
    case 'message': return `${e.event} ${e.outcome}${e.error_code ? ` ${e.error_code}` : ''} · ${e.size} B · ${Number(e.duration_ms).toFixed(1)} ms · trace ${e.trace_id}`;
    case 'sent': return `${e.kind} ${e.event} · ${e.size} B${e.trace_id ? ` · trace ${e.trace_id}` : ''}`;
    case 'error': return `${e.event} ${e.error_code} · trace ${e.trace_id}`;
    case 'closed': return `code ${e.code} by ${e.closed_by} · session ${e.connection_trace_id}`;
    case 'connected': return `${e.transport} on ${e.instance_id} · session ${e.connection_trace_id}`;
    case 'client_report': return `offline ${e.offline_ms} ms · ${e.failed_attempts} failed attempts · codes ${(e.close_codes ?? []).join(', ')}`;
    case 'watch': return `watching ${JSON.stringify(e.target)} on ${(e.instances ?? []).join(', ')} until ${e.until}`;
    default: return JSON.stringify(e);
  }
}

function showEvent(e) {
  const li = document.createElement('li');
  li.dataset.type = e.type;
  if (e.trace_id) li.dataset.traceId = e.trace_id;
  if (e.outcome) li.dataset.outcome = e.outcome;
  if (e.closed_by) li.dataset.closedBy = e.closed_by;
  const at = document.createElement('span');
  at.textContent = new Date(e.at).toLocaleTimeString();
  const type = document.createElement('span');
  type.className = 'type';
  type.textContent = e.dropped ? `${e.type} (+${e.dropped} dropped)` : e.type;
  const what = document.createElement('span');
  what.className = 'mono';
  what.textContent = describe(e);
  li.append(at, type, what);
  $('events').prepend(li);
  // The table follows what the trace shows: a session that ends or (re)connects.
  if (e.type === 'connected' || e.type === 'closed') void findSessions();
}

async function watch() {
  showError('');
  stop();
  const abort = new AbortController();
  watching = abort;
  const res = await fetch(`/admin/trace?user=${encodeURIComponent(user())}`, { headers: headers(), signal: abort.signal }).catch(() => undefined);
  if (!res || !res.ok) {
    watching = undefined;
    return showError(res ? failure(res) : 'The live trace could not be opened.');
  }
  if ($('debug-toggle').checked) await fetch(`/admin/debug?user=${encodeURIComponent(user())}&level=info`, { method: 'POST', headers: headers() });
  setWatching(true);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffered += value;
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.startsWith('data: ')) showEvent(JSON.parse(line.slice(6)));
      }
    }
  } catch {
    // stopped
  }
  if (watching === abort) setWatching(false);
}

function stop() {
  watching?.abort();
  watching = undefined;
  setWatching(false);
}

function setWatching(on) {
  $('watch-state').dataset.state = on ? 'watching' : 'idle';
  $('watch-state').textContent = on ? `Watching ${user()}` : 'Not watching';
  $('stop-button').disabled = !on;
}

form.addEventListener('submit', (e) => {
  e.preventDefault();
  void findSessions();
});
$('watch-button').addEventListener('click', () => {
  if (form.reportValidity()) void watch();
});
$('stop-button').addEventListener('click', stop);
