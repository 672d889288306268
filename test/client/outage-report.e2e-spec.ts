import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { TracingWsClient } from '@tracing-ws/client';
import { TracingIoClient } from '@tracing-ws/client/socket.io';
import { TracingIoAdapter } from '@tracing-ws/nestjs/socket.io';
import { io } from 'socket.io-client';
import { ADMIN_HEADERS, AdminChatGateway, adminModule } from '../admin/admin-fixtures.js';
import { CONFORMANCE_PATH } from '../conformance/harness.js';
import { logs, startApp, type TestApp } from '../support/app.js';
import { waitFor } from '../support/wait.js';
import { withoutForeignUndiciSubscribers } from './undici-isolation.js';

/** Makes the next handshakes fail (the authenticate hook throws: HTTP 500, a transient failure), as a broken deploy would. */
@Injectable()
class Outage {
  failures = 0;
}

const state = { outage: new Outage() };

async function start(adapter?: 'socket.io'): Promise<TestApp> {
  return startApp({
    gateways: [AdminChatGateway],
    imports: [adminModule()],
    adapter: adapter ? (app) => new TracingIoAdapter(app) : undefined,
    tracing: {
      authenticate: ({ token, request }) => {
        // Upgrades fail; the client's handshake check (which runs the hook too) is left alone.
        if (state.outage.failures > 0 && request.headers['sec-websocket-key'] !== undefined) {
          state.outage.failures--;
          throw new Error('identity provider down');
        }
        return { id: token };
      },
    },
  });
}

async function kick(app: TestApp, user: string, code: number): Promise<void> {
  const res = await fetch(`${app.httpUrl}/admin/connections?user=${user}&code=${code}`, { method: 'DELETE', headers: ADMIN_HEADERS });
  expect(await res.json()).toMatchObject({ closed: 1 });
}

describe('what the client saw: its report after an outage reaches the server log with the session trace id', () => {
  let app: TestApp;
  let ioApp: TestApp;
  let restoreUndici: () => void;
  beforeAll(async () => {
    // Upgrades as a browser sends them, with the client's trace context only (see undici-isolation.ts).
    restoreUndici = withoutForeignUndiciSubscribers();
    app = await start();
    ioApp = await start('socket.io');
  });
  afterAll(async () => {
    restoreUndici?.();
    await app?.close();
    await ioApp?.close();
  });

  it('TracingWsClient: closed with 1012, two failed attempts, then connected: one report with them', async () => {
    const chat = new TracingWsClient({ url: `${app.wsUrl}${CONFORMANCE_PATH}`, token: 'oscar', reconnect: { baseMs: 20, capMs: 50 }, random: () => 0.5 });
    // Every session the client opened, and every close it saw: the report belongs to the second session.
    const opened: string[] = [];
    const closes: Array<{ code: number; wasOpen: boolean }> = [];
    chat.on('open', (e) => opened.push(e.traceId));
    chat.on('reconnecting', (e) => closes.push({ code: e.code, wasOpen: e.wasOpen }));
    try {
      await chat.connect();
      await chat.request('say', { text: 'before' });
      state.outage.failures = 2;
      await kick(app, 'oscar', 1012);
      const line = await logs.waitFor({ msg: 'ws.client_report', user_id: 'oscar' }, 10_000);
      await waitFor(() => opened.length >= 2, 5000, 'the second session');
      expect(closes.slice(0, 3)).toEqual([{ code: 1012, wasOpen: true }, { code: 1006, wasOpen: false }, { code: 1006, wasOpen: false }]);
      expect(line.trace_id).toBe(opened[1]);
      expect(line.connection_trace_id).toBe(opened[1]);
      expect(line.failed_attempts).toBe(2);
      expect(line.close_codes).toEqual([1012, 1006, 1006]);
      expect(line.offline_ms).toBeGreaterThan(0);
      expect(typeof line.last_rtt_ms).toBe('number');
      expect(line.last_error_code).toBe('CLOSE_1006');
      // One report per outage: a request afterwards adds none.
      await waitFor(() => chat.state === 'open' || undefined, 5000, 'open');
      await chat.request('say', { text: 'after' });
      expect(logs.find({ msg: 'ws.client_report', user_id: 'oscar' })).toHaveLength(1);
    } finally {
      chat.close();
    }
  });

  it('TracingIoClient: closed with 1012, then connected again: one report with the new session trace id', async () => {
    const socket = io(`${ioApp.httpUrl}`, { path: CONFORMANCE_PATH, transports: ['websocket'], auth: { token: 'pia' }, reconnectionDelay: 20, reconnectionDelayMax: 50 });
    const chat = new TracingIoClient(socket);
    try {
      await chat.connect();
      await chat.request('echo', { text: 'before' });
      const firstTrace = chat.traceId;
      await kick(ioApp, 'pia', 1012);
      const line = await logs.waitFor({ msg: 'ws.client_report', user_id: 'pia' }, 10_000);
      expect(chat.traceId).not.toBe(firstTrace);
      expect(line.trace_id).toBe(chat.traceId);
      expect(line).toMatchObject({ failed_attempts: 0, close_codes: [1012], last_error_code: 'CLOSE_1012' });
      expect(typeof line.last_rtt_ms).toBe('number');
    } finally {
      chat.close();
    }
  });
});
