import { expect } from '@jest/globals';
import { join } from 'node:path';
import type { Page } from 'playwright-core';

// Driving the sample chat page (either transport's script: the markup is the same).

export const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts');
/** Debian's chromium; never a downloaded browser (TOOLCHAIN.md, "Browser tests"). */
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
export const WAIT = { timeout: 20000 };

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
