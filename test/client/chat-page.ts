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
