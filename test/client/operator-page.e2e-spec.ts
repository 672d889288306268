import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SampleProcess } from '../support/sample-process.js';
import { ARTIFACTS, ChatBrowser, joinRoom, logIn, recordStates, say, shownTraceId, waitForStates, WAIT } from './chat-page.js';

const ADMIN_TOKEN = 'operator-page-test-token-5c1e';

describe('the sample operator page (/admin) in headless Chromium', () => {
  let sample: SampleProcess;
  let browser: ChatBrowser;

  beforeAll(async () => {
    sample = await SampleProcess.start({ SAMPLE_ADMIN_TOKEN: ADMIN_TOKEN });
    browser = await ChatBrowser.launch();
  });
  afterAll(async () => {
    await browser?.close();
    await sample?.stop();
  });

  it("shows alice's events while she chats in another page; disconnect closes her socket and her page reconnects", async () => {
    const alice = await browser.openPage();
    await logIn(alice, sample.httpUrl, 'alice-token');
    await joinRoom(alice, 'ops');

    const operator = await browser.openPage();
    await operator.goto(`${sample.httpUrl}/admin`);
    // A wrong token is refused, and said so.
    await operator.fill('#admin-token', 'not-the-token');
    await operator.fill('#admin-user', 'alice');
    await operator.click('#find-button');
    await operator.locator('#error', { hasText: 'The admin token was refused.' }).waitFor(WAIT);

    await operator.fill('#admin-token', ADMIN_TOKEN);
    await operator.click('#find-button');
    const row = operator.locator('#connections tbody tr');
    await row.first().waitFor(WAIT);
    await expect(row.count()).resolves.toBe(1);
    await expect(row.first().locator('td').nth(6).innerText()).resolves.toContain('ops');
    const firstConnection = await row.first().getAttribute('data-connection-id');

    await operator.click('#watch-button');
    await operator.waitForSelector('#watch-state[data-state="watching"]', WAIT);
    await operator.locator('#events li[data-type="watch"]').waitFor(WAIT);

    await say(alice, 'is anyone there?');
    const traceId = await shownTraceId(alice, 'alice', 'is anyone there?');
    // The operator sees that message, with the trace id alice's page shows for it.
    await operator.locator(`#events li[data-type="message"][data-trace-id="${traceId}"][data-outcome="ok"]`).waitFor(WAIT);

    // The page reconnects to a server that is up: "reconnecting" may last less than a frame.
    await recordStates(alice);
    await operator.click('#connections tbody tr button.disconnect');
    await operator.locator('#events li[data-type="closed"][data-closed-by="admin"]').waitFor(WAIT);
    // Alice's page loses its socket and comes back by itself, and her client tells what it saw.
    await waitForStates(alice, ['reconnecting', 'connecting'], 'open');
    await operator.locator('#events li[data-type="connected"]').waitFor(WAIT);
    await operator.locator('#events li[data-type="client_report"]').waitFor(WAIT);
    // The table follows: alice's new session, and only it.
    await operator.waitForFunction((old) => { const rows = document.querySelectorAll('#connections tbody tr'); return rows.length === 1 && (rows[0] as HTMLElement).dataset.connectionId !== old; }, firstConnection, WAIT);
    await sample.waitForLog({ msg: 'ws.disconnected', user_id: 'alice', code: 1012, closed_by: 'admin' });
    await sample.waitForLog({ msg: 'ws.client_report', user_id: 'alice' });

    await operator.screenshot({ path: join(ARTIFACTS, 'operator-page.png'), fullPage: true });
    await operator.click('#stop-button');
    await operator.waitForSelector('#watch-state[data-state="idle"]', WAIT);
    expect(operator.problems).toEqual([]);
    expect(alice.problems).toEqual([]);
    // The token never reaches the log.
    expect(sample.raw.join('\n')).not.toContain(ADMIN_TOKEN);
  });

  it('mounts no admin route without SAMPLE_ADMIN_TOKEN', async () => {
    const bare = await SampleProcess.start();
    try {
      const res = await fetch(`${bare.httpUrl}/admin/connections?user=alice`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(res.status).toBe(404);
    } finally {
      await bare.stop();
    }
  });
});
