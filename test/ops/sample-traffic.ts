import { SampleProcess } from '../support/sample-process.js';
import { connect, upgrade } from '../support/ws-client.js';

/** The Origin the sample is told to allow (ALLOWED_ORIGINS) in these tests. */
export const ALLOWED_ORIGIN = 'http://allowed.test';

/** Starts the built sample with an origin allow-list, so that every rejection reason can be produced. */
export function startSample(): Promise<SampleProcess> {
  return SampleProcess.start({ ALLOWED_ORIGINS: ALLOWED_ORIGIN, LOG_LEVEL: 'info' });
}

/**
 * Exercises what the dashboard and the alerts look at, so that labelled series
 * have samples: a session with handled, unknown and invalid frames, refused
 * upgrades of each kind, HTTP routes, and a closed connection.
 */
export async function driveTraffic(sample: SampleProcess): Promise<void> {
  const chat = `${sample.wsUrl}/chat`;
  const alice = await connect(chat, { origin: ALLOWED_ORIGIN, headers: { authorization: 'Bearer alice-token' } });
  try {
    await alice.request('join', { room: 'ops' }, 'joined');
    await alice.request('message', { room: 'ops', text: 'hello' }, 'sent');
    await alice.request('no-such-event', {}, 'error');
    alice.sendRaw('not json');
    await alice.next((f) => f.event === 'error');
    await fetch(`${sample.httpUrl}/rooms/ops/announce`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'ops check' }),
    });
    await alice.next((f) => f.event === 'announcement');
  } finally {
    await alice.close();
  }
  await sample.waitForLog({ msg: 'ws.disconnected', user_id: 'alice' });

  const refused = [
    await upgrade(chat, { origin: 'http://evil.test', headers: { authorization: 'Bearer alice-token' } }),
    await upgrade(chat, { origin: ALLOWED_ORIGIN }),
    await upgrade(chat, { origin: ALLOWED_ORIGIN, headers: { authorization: 'Bearer wrong-token' } }),
  ];
  const statuses = refused.map((r) => r.status).join(',');
  if (statuses !== '403,401,401') throw new Error(`expected upgrades refused with 403,401,401, got ${statuses}`);
  await fetch(`${sample.httpUrl}/health`);
}

export async function scrape(sample: SampleProcess): Promise<string> {
  const res = await fetch(`${sample.httpUrl}/metrics`);
  if (!res.ok) throw new Error(`GET /metrics answered ${res.status}`);
  return res.text();
}
