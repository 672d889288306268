import { expect } from '@jest/globals';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

// Driving the sample chat page (either transport's script: the markup is the same).

export const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts');
/** Debian's chromium; never a downloaded browser (TOOLCHAIN.md, "Browser tests"). */
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
export const WAIT = { timeout: 20000 };

/** A page that keeps the errors its scripts threw. */
export type ChatPage = Page & { readonly problems: string[] };

/** Headless Chromium for the chat page; screenshots go to {@link ARTIFACTS}. */
export class ChatBrowser {
  private readonly contexts: BrowserContext[] = [];

  private constructor(private readonly browser: Browser) {}

  static async launch(): Promise<ChatBrowser> {
    mkdirSync(ARTIFACTS, { recursive: true });
    return new ChatBrowser(await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS }));
  }

  /** A page in a context of its own: separate storage, as two people on two machines. */
  async openPage(): Promise<ChatPage> {
    const context = await this.browser.newContext({ viewport: { width: 1180, height: 760 } });
    this.contexts.push(context);
    const page = Object.assign(await context.newPage(), { problems: [] as string[] });
    page.on('pageerror', (err) => page.problems.push(err.message));
    return page;
  }

  async close(): Promise<void> {
    for (const c of this.contexts) await c.close().catch(() => undefined);
    await this.browser.close();
  }
}

/** Signs in with `token` and waits for the page to say "Connected", unless `opened` is false. */
export async function logIn(page: Page, baseUrl: string, token: string, opened = true): Promise<void> {
  await page.goto(baseUrl);
  await page.fill('#token', token);
  await page.click('#login-button');
  if (opened) await page.waitForSelector('#status[data-state="open"]', WAIT);
}

/**
 * Starts keeping every state `#status` passes through, so that a test can tell a page went
 * through a state that lasted less than a polling interval (a reconnect to a server that is up).
 * {@link statesSince} reads them.
 */
export async function recordStates(page: Page): Promise<void> {
  await page.evaluate(() => {
    const status = document.querySelector('#status') as HTMLElement;
    const seen: string[] = [status.dataset.state ?? ''];
    (window as unknown as { statusStates: string[] }).statusStates = seen;
    // Every change is one record: its old value, then the current one, gives the whole path.
    new MutationObserver((records) => {
      for (const r of records) if (r.oldValue !== seen[seen.length - 1]) seen.push(r.oldValue ?? '');
      if (status.dataset.state !== seen[seen.length - 1]) seen.push(status.dataset.state ?? '');
    }).observe(status, { attributes: true, attributeFilter: ['data-state'], attributeOldValue: true });
  });
}

/** Waits until `#status` has passed through one of `through` and is now `now`; returns the path. */
export async function waitForStates(page: Page, through: string[], now: string): Promise<string[]> {
  const handle = await page.waitForFunction(([through, now]) => {
    const seen = (window as unknown as { statusStates: string[] }).statusStates;
    const current = (document.querySelector('#status') as HTMLElement).dataset.state;
    return current === now && seen.slice(1).some((s) => through.includes(s)) ? seen : undefined;
  }, [through, now] as const, WAIT);
  return (await handle.jsonValue()) as string[];
}

export async function joinRoom(page: Page, room: string): Promise<void> {
  await page.fill('#room', room);
  await page.click('#join-button');
  await page.locator('.notice', { hasText: `Joined #${room}` }).waitFor(WAIT);
}

export async function say(page: Page, text: string): Promise<void> {
  await page.waitForSelector('#send-button:not([disabled])', WAIT);
  await page.fill('#text', text);
  await page.click('#send-button');
}

/** The trace id a page shows for the message `text` from `user`. */
export async function shownTraceId(page: Page, user: string, text: string): Promise<string> {
  const item = page.locator(`li.msg[data-user="${user}"]`, { hasText: text }).last();
  await item.waitFor(WAIT);
  const traceId = await item.getAttribute('data-trace-id');
  expect(traceId).toMatch(/^[0-9a-f]{32}$/);
  // Visible to the user, not only in an attribute.
  await expect(item.locator('.trace-tag').innerText()).resolves.toContain(traceId!);
  return traceId!;
}
