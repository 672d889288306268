import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { metricValue } from '../support/metrics.js';
import { SampleProcess } from '../support/sample-process.js';
import { ARTIFACTS, ChatBrowser, joinRoom, logIn, say, shownTraceId, WAIT, type ChatPage } from './chat-page.js';

describe('the sample chat page in headless Chromium', () => {
  let sample: SampleProcess;
  let browser: ChatBrowser;

  beforeAll(async () => {
    sample = await SampleProcess.start();
    browser = await ChatBrowser.launch();
  });
  afterAll(async () => {
    await browser?.close();
    await sample?.stop();
  });

  const openPage = (): Promise<ChatPage> => browser.openPage();

  it('tells a user whose token the server refuses so, with the trace id of the refusal, and stops retrying', async () => {
    const refusals = async (): Promise<number> =>
      metricValue(await (await fetch(`${sample.httpUrl}/metrics`)).text(), 'ws_handshake_rejections_total', { path: '/chat', reason: 'invalid_credentials' });
    const before = await refusals();
    const page = await openPage();
    await page.goto(sample.httpUrl);
    await page.fill('#token', 'mallory-token');
    await page.click('#login-button');
    await page.waitForSelector('#status[data-state="refused"]', WAIT);
    const signedInAt = Date.now();
    await expect(page.locator('#status-text').innerText()).resolves.toBe('Token refused');
    const banner = page.locator('#banner');
    await expect(banner.isVisible()).resolves.toBe(true);
    const text = await banner.innerText();
    expect(text).toContain('The server refused your token. Please sign in again.');
    expect(text).not.toMatch(/Reconnecting|Could not reach/);
    const traceId = await banner.locator('.trace-tag').getAttribute('data-trace-id');
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(text).toContain(traceId!);
    // The id the page shows finds the refusal in the server's log.
    await sample.waitForLog({ msg: 'ws.handshake_rejected', trace_id: traceId, reason: 'invalid_credentials', status: 401 });
    await page.screenshot({ path: join(ARTIFACTS, 'chat-page-token-refused.png'), fullPage: true });

    // No more knocking: the refused upgrade and its check count 2, and the count stays
    // there. 6 s of watching covers at least three retries of the page's old backoff
    // (ceilings 0.5, 1, 2, 4 s); the acceptance bound is 2 within 30 s of signing in.
    const seen: number[] = [];
    while (Date.now() - signedInAt < 6000) {
      seen.push((await refusals()) - before);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    seen.push((await refusals()) - before);
    expect(seen.length).toBeGreaterThanOrEqual(8);
    expect(Math.max(...seen)).toBeLessThanOrEqual(2);
    expect(seen.at(-1)).toBe(seen[0]);
    await expect(page.locator('#status').getAttribute('data-state')).resolves.toBe('refused');

    // "Sign in again" leads back to the form, and a good token then connects.
    await page.click('#retry-button:has-text("Sign in again")');
    await page.waitForSelector('#login:not([hidden])', WAIT);
    await page.fill('#token', 'alice-token');
    await page.click('#login-button');
    await page.waitForSelector('#status[data-state="open"]', WAIT);
    expect(page.problems).toEqual([]);
  }, 40000);

  it('chats between two users, shows trace ids found in the server log, and survives a server restart', async () => {
    const alice = await openPage();
    const bob = await openPage();
    await logIn(alice, sample.httpUrl, 'alice-token');
    await logIn(bob, sample.httpUrl, 'bob-token');
    // The session trace id is shown from the start.
    await expect(alice.locator('#session-trace').innerText()).resolves.toMatch(/^[0-9a-f]{32}$/);
    await joinRoom(alice, 'lobby');
    await joinRoom(bob, 'lobby');

    await say(alice, 'hello bob');
    const traceId = await shownTraceId(bob, 'alice', 'hello bob');
    expect(await shownTraceId(alice, 'alice', 'hello bob')).toBe(traceId);
    await alice.locator(`li.msg[data-trace-id="${traceId}"] .msg-state`, { hasText: 'delivered to 2' }).waitFor(WAIT);
    const handled = await sample.waitForLog({ msg: 'ws.message_handled', trace_id: traceId });
    expect(handled).toMatchObject({ event: 'message', user_id: 'alice' });

    // An error shows a friendly text and its own trace id, which the server logged too.
    await bob.fill('#room', 'no spaces allowed');
    await bob.click('#join-button');
    const error = bob.locator('li.msg--error').last();
    await error.waitFor(WAIT);
    await expect(error.innerText()).resolves.toContain('That request was not accepted: room must be 1-64 letters, digits, _ or -');
    const errorTraceId = await error.getAttribute('data-trace-id');
    expect(errorTraceId).toMatch(/^[0-9a-f]{32}$/);
    await expect(error.innerText()).resolves.toContain(errorTraceId!);
    expect(await sample.waitForLog({ msg: 'ws.message_failed', trace_id: errorTraceId })).toMatchObject({ event: 'join', user_id: 'bob' });

    await say(bob, 'hi alice, see my trace id?');
    await shownTraceId(alice, 'bob', 'hi alice, see my trace id?');
    await alice.screenshot({ path: join(ARTIFACTS, 'chat-page.png'), fullPage: true });
    await bob.screenshot({ path: join(ARTIFACTS, 'chat-page-error.png'), fullPage: true });

    // Restart the server on the same port: the pages reconnect, re-join and keep working.
    const port = sample.port;
    await sample.stop();
    for (const page of [alice, bob]) {
      await page.waitForSelector('#status[data-state="reconnecting"], #status[data-state="connecting"]', WAIT);
    }
    await expect(alice.locator('#banner').isVisible()).resolves.toBe(true);
    await alice.screenshot({ path: join(ARTIFACTS, 'chat-page-reconnecting.png'), fullPage: true });
    sample = await SampleProcess.start({ PORT: String(port) });
    for (const page of [alice, bob]) {
      await page.waitForSelector('#status[data-state="open"]', WAIT);
      await page.locator('.notice', { hasText: 'Rejoined #lobby' }).waitFor(WAIT);
    }
    await expect(alice.locator('#banner').isVisible()).resolves.toBe(false);

    await say(bob, 'welcome back');
    const afterRestart = await shownTraceId(alice, 'bob', 'welcome back');
    expect(afterRestart).not.toBe(traceId);
    expect(await sample.waitForLog({ msg: 'ws.message_handled', trace_id: afterRestart })).toMatchObject({ event: 'message', user_id: 'bob' });
    await alice.screenshot({ path: join(ARTIFACTS, 'chat-page-after-restart.png'), fullPage: true });

    for (const page of [alice, bob]) expect(page.problems).toEqual([]);
  }, 90000);
});
