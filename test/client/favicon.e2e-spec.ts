import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chromium, type Browser } from 'playwright-core';
import { SampleProcess } from '../support/sample-process.js';
import { waitFor } from '../support/wait.js';

// Chromium asks for the page's icon on every load: without one the sample answered
// 404 each time. Seen from both ends: the page's responses (an icon the page declares
// shows there) and the server's request lines (the browser's own /favicon.ico request
// does not show in the page's events; static files are served before the request
// logger, so only what reaches Nest, 404s included, is logged).

/** Debian's chromium; never a downloaded browser. */
const CHROMIUM = '/usr/bin/chromium';
// The new headless mode fetches icons as a desktop Chromium does (the old one never asks).
const CHROMIUM_ARGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

interface RequestLine {
  req?: { url?: string; method?: string };
  res?: { statusCode?: number };
}

describe('the chat page in Chromium', () => {
  let sample: SampleProcess;
  let browser: Browser;

  beforeAll(async () => {
    sample = await SampleProcess.start();
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: false, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    await sample?.stop();
  });

  it('has an icon, and loading, signing in and joining a room answer no request with 404', async () => {
    const page = await browser.newPage();
    const responses: Array<{ status: number; path: string; type: string | undefined }> = [];
    page.on('response', (r) => responses.push({ status: r.status(), path: new URL(r.url()).pathname, type: r.headers()['content-type'] }));
    await page.goto(sample.httpUrl);
    await page.fill('#token', 'alice-token');
    await page.click('#login-button');
    await page.waitForSelector('#status[data-state="open"]', { timeout: 20000 });
    await page.fill('#room', 'lobby');
    await page.click('#join-button');
    await page.locator('.notice', { hasText: 'Joined #lobby' }).waitFor({ timeout: 20000 });

    // The browser's icon request, from whichever end sees it first.
    const logged = (): RequestLine[] => sample.lines.filter((l) => typeof (l as RequestLine).req?.url === 'string') as RequestLine[];
    const icon = await waitFor(
      () =>
        responses.find((r) => r.path.startsWith('/favicon.')) ??
        logged()
          .filter((l) => l.req!.url!.startsWith('/favicon.') && l.res?.statusCode !== undefined)
          .map((l) => ({ status: l.res!.statusCode!, path: l.req!.url!, type: undefined }))[0],
      20000,
      "the browser's icon request",
    );
    expect(icon).toEqual({ status: 200, path: '/favicon.svg', type: expect.stringContaining('image/svg+xml') });
    expect(await page.locator('link[rel="icon"]').evaluateAll((links) => links.map((l) => l.getAttribute('href')))).toEqual(['/favicon.svg']);

    const failed = [
      ...responses.filter((r) => r.status >= 400).map((r) => `${r.status} ${r.path} (page)`),
      ...logged()
        .filter((l) => (l.res?.statusCode ?? 0) >= 400)
        .map((l) => `${l.res!.statusCode} ${l.req!.url} (server)`),
    ];
    expect(failed).toEqual([]);
    await page.close();
  }, 60000);
});
