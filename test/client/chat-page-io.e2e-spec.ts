import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { metricValue } from '../support/metrics.js';
import { SampleProcess } from '../support/sample-process.js';
import { ARTIFACTS, ChatBrowser, joinRoom, logIn, say, shownTraceId, WAIT, type ChatPage } from './chat-page.js';

// The sample's chat page when the sample serves socket.io (TRANSPORT=socket.io): the
// same markup, its script on socket.io-client and TracingIoClient, in headless Chromium.

describe('the sample chat page over socket.io in headless Chromium', () => {
  let sample: SampleProcess;
  let browser: ChatBrowser;

  beforeAll(async () => {
    sample = await SampleProcess.start({ TRANSPORT: 'socket.io' });
    browser = await ChatBrowser.launch();
  });
  afterAll(async () => {
    await browser?.close();
    await sample?.stop();
  });

  const openPage = (): Promise<ChatPage> => browser.openPage();

  it('chats between two users with the trace ids the server logged, shows errors and announcements, and survives a server restart', async () => {
    const alice = await openPage();
    const bob = await openPage();
    await logIn(alice, sample.httpUrl, 'alice-token');
    await logIn(bob, sample.httpUrl, 'bob-token');
    const session = await alice.locator('#session-trace').innerText();
    expect(session).toMatch(/^[0-9a-f]{32}$/);
    expect(await sample.waitForLog({ msg: 'ws.connected', trace_id: session })).toMatchObject({ user_id: 'alice', transport: 'socket.io' });
    await joinRoom(alice, 'lobby');
    await joinRoom(bob, 'lobby');

    await say(alice, 'hello bob over socket.io');
    const traceId = await shownTraceId(bob, 'alice', 'hello bob over socket.io');
    expect(await shownTraceId(alice, 'alice', 'hello bob over socket.io')).toBe(traceId);
    await alice.locator(`li.msg[data-trace-id="${traceId}"] .msg-state`, { hasText: 'delivered to 2' }).waitFor(WAIT);
    expect(await sample.waitForLog({ msg: 'ws.message_handled', trace_id: traceId })).toMatchObject({ event: 'message', user_id: 'alice' });

    // A refused message: the client's text with the app's reason, and the trace id the server logged.
    await bob.fill('#room', 'no spaces allowed');
    await bob.click('#join-button');
    const error = bob.locator('li.msg--error').last();
    await error.waitFor(WAIT);
    await expect(error.innerText()).resolves.toContain('That request was not accepted: room must be 1-64 letters, digits, _ or -');
    const errorTraceId = await error.getAttribute('data-trace-id');
    await expect(error.innerText()).resolves.toContain(errorTraceId!);
    expect(await sample.waitForLog({ msg: 'ws.message_failed', trace_id: errorTraceId })).toMatchObject({ event: 'join', user_id: 'bob' });

    const res = await fetch(`${sample.httpUrl}/rooms/lobby/announce`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'maintenance at noon' }) });
    const announced = (await res.json()) as { traceId: string };
    for (const page of [alice, bob]) await page.locator('.notice--announcement', { hasText: `maintenance at noon (trace ${announced.traceId})` }).waitFor(WAIT);
    await alice.screenshot({ path: join(ARTIFACTS, 'chat-page-io.png'), fullPage: true });

    // Restart on the same port: socket.io-client reconnects, the page joins its rooms again.
    const port = sample.port;
    await sample.stop();
    await alice.waitForSelector('#status[data-state="reconnecting"]', WAIT);
    await alice.screenshot({ path: join(ARTIFACTS, 'chat-page-io-reconnecting.png'), fullPage: true });
    sample = await SampleProcess.start({ PORT: String(port), TRANSPORT: 'socket.io' });
    // "Retry now" skips socket.io-client's backoff; bob waits for it. On a loaded machine the
    // backoff may have ended first and the button be gone: the waits below still hold.
    const retry = alice.locator('#retry-button');
    if (await retry.isVisible()) await retry.click({ timeout: 5000 }).catch(() => undefined);
    for (const page of [alice, bob]) {
      await page.waitForSelector('#status[data-state="open"]', WAIT);
      await page.locator('.notice', { hasText: 'Rejoined #lobby' }).waitFor(WAIT);
    }
    await say(bob, 'welcome back');
    const afterRestart = await shownTraceId(alice, 'bob', 'welcome back');
    expect(await sample.waitForLog({ msg: 'ws.message_handled', trace_id: afterRestart })).toMatchObject({ event: 'message', user_id: 'bob' });

    for (const page of [alice, bob]) expect(page.problems).toEqual([]);
  }, 90000);

  it('says a refused token is refused, with the trace id to quote, and does not keep retrying', async () => {
    const rejections = async (): Promise<number> =>
      metricValue(await (await fetch(`${sample.httpUrl}/metrics`)).text(), 'ws_handshake_rejections_total', { path: '/chat', transport: 'socket.io', reason: 'invalid_credentials' });
    const before = await rejections();
    const page = await openPage();
    await logIn(page, sample.httpUrl, 'stolen-token', false);
    await page.waitForSelector('#status[data-state="refused"]', WAIT);
    await expect(page.locator('#status-text').innerText()).resolves.toBe('Token refused');
    const text = await page.locator('#banner-text').innerText();
    const traceId = /Quote this id to support: trace ([0-9a-f]{32})/.exec(text)?.[1];
    expect(text).toContain('The server refused your token. Please sign in again.');
    expect(await sample.waitForLog({ msg: 'ws.handshake_rejected', trace_id: traceId })).toMatchObject({ reason: 'invalid_credentials', transport: 'socket.io' });
    await expect(page.locator('#retry-button').innerText()).resolves.toBe('Sign in again');
    await page.screenshot({ path: join(ARTIFACTS, 'chat-page-io-refused.png'), fullPage: true });
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect((await rejections()) - before).toBe(1);
    expect(page.problems).toEqual([]);
  });
});
