import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { metricValue } from '../support/metrics.js';
import { SampleProcess } from '../support/sample-process.js';

const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts');
/** Debian's chromium; never a downloaded browser (TOOLCHAIN.md, "Browser tests"). */
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const WAIT = { timeout: 20000 };

async function logIn(page: Page, baseUrl: string, token: string): Promise<void> {
  await page.goto(baseUrl);
  await page.fill('#token', token);
  await page.click('#login-button');
  await page.waitForSelector('#status[data-state="open"]', WAIT);
}

async function joinRoom(page: Page, room: string): Promise<void> {
  await page.fill('#room', room);
  await page.click('#join-button');
  await page.locator('.notice', { hasText: `Joined #${room}` }).waitFor(WAIT);
}

async function say(page: Page, text: string): Promise<void> {
  await page.waitForSelector('#send-button:not([disabled])', WAIT);
  await page.fill('#text', text);
  await page.click('#send-button');
}

/** The trace id a page shows for the message `text` from `user`. */
async function shownTraceId(page: Page, user: string, text: string): Promise<string> {
  const item = page.locator(`li.msg[data-user="${user}"]`, { hasText: text }).last();
  await item.waitFor(WAIT);
  const traceId = await item.getAttribute('data-trace-id');
  expect(traceId).toMatch(/^[0-9a-f]{32}$/);
  // Visible to the user, not only in an attribute.
  await expect(item.locator('.trace-tag').innerText()).resolves.toContain(traceId!);
  return traceId!;
}

describe('the sample chat page in headless Chromium', () => {
  let sample: SampleProcess;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    sample = await SampleProcess.start();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await sample?.stop();
  });

  async function openPage(): Promise<Page> {
    // One context per user: separate storage, as two people on two machines.
    const context = await browser.newContext({ viewport: { width: 1180, height: 760 } });
    contexts.push(context);
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(err.message));
    (page as Page & { problems?: string[] }).problems = problems;
    return page;
  }

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
    expect((page as Page & { problems?: string[] }).problems).toEqual([]);
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

    for (const page of [alice, bob]) expect((page as Page & { problems?: string[] }).problems).toEqual([]);
  }, 90000);
});
