import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SampleProcess } from '../support/sample-process.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { connect, type TestSocket } from '../support/ws-client.js';
import { ChatBrowser, joinRoom, logIn, WAIT } from './chat-page.js';

describe('the sample chat page after a network blip and a restart (room history)', () => {
  let sample: SampleProcess;
  let browser: ChatBrowser;
  let proxy: TcpProxy;
  let bob: TestSocket | undefined;

  beforeAll(async () => {
    sample = await SampleProcess.start();
    proxy = await TcpProxy.start(sample.port);
    browser = await ChatBrowser.launch();
  });
  afterAll(async () => {
    await bob?.close();
    await browser?.close();
    await proxy?.close();
    await sample?.stop();
  });

  async function bobSays(text: string): Promise<void> {
    const reply = await bob!.request('message', { room: 'lobby', text }, 'sent');
    expect(reply.event).toBe('sent');
  }

  it('shows the messages sent while the page was cut off, marked recovered, and says so when some could not be recovered', async () => {
    const alice = await browser.openPage();
    // The page reaches the sample through a relay that can cut its connection like a network does.
    await logIn(alice, `http://127.0.0.1:${proxy.port}`, 'alice-token');
    await joinRoom(alice, 'lobby');
    bob = await connect(`${sample.wsUrl}/chat`, { protocols: ['json', 'bearer.bob-token'] });
    await bob.request('join', { room: 'lobby' }, 'joined');
    await bobSays('before the blip');
    await alice.locator('li.msg[data-user="bob"]', { hasText: 'before the blip' }).waitFor(WAIT);

    proxy.blocked = true;
    proxy.cut();
    await alice.waitForSelector('#status[data-state="reconnecting"], #status[data-state="connecting"]', WAIT);
    for (const n of [1, 2, 3]) await bobSays(`while you were away ${n}`);
    proxy.blocked = false;
    await alice.waitForSelector('#status[data-state="open"]', WAIT);
    await alice.locator('.notice--recovered', { hasText: '3 messages in #lobby sent while you were away.' }).waitFor(WAIT);
    const recovered = alice.locator('li.msg--recovered[data-user="bob"]');
    await expect(recovered.allInnerTexts()).resolves.toEqual([1, 2, 3].map((n) => expect.stringContaining(`while you were away ${n}`)));
    await expect(recovered.locator('.msg-state').allInnerTexts()).resolves.toEqual(['recovered', 'recovered', 'recovered']);
    await expect(alice.locator('li.msg[data-user="bob"]', { hasText: 'before the blip' }).count()).resolves.toBe(1);

    // A restart loses the in-memory history: the page says some messages could not be recovered.
    const port = sample.port;
    await bob.close();
    bob = undefined;
    await sample.stop();
    await alice.waitForSelector('#status[data-state="reconnecting"], #status[data-state="connecting"]', WAIT);
    sample = await SampleProcess.start({ PORT: String(port) });
    await alice.locator('.notice--unrecovered', { hasText: 'Some messages in #lobby could not be recovered' }).waitFor(WAIT);
    expect(alice.problems).toEqual([]);
  }, 90000);
});
