import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { WS_CLIENT_REPORT_EVENT } from '@tracing-ws/nestjs';
import { AdminChatGateway } from '../admin/admin-fixtures.js';
import { metricValue } from '../support/metrics.js';
import { accepted, errorData, type HarnessApp } from './harness.js';
import { TRANSPORTS } from './transports.js';

// The reserved report event, as the server takes it on either transport: a good report is
// logged with the session's trace id and counted by its last close code, never as an
// unknown event; a hostile one is refused with an error frame and becomes no label.

describe.each(TRANSPORTS)('a client report after an outage over $name', (harness) => {
  let app: HarnessApp;
  beforeAll(async () => {
    app = await harness.start({ gateways: [AdminChatGateway], options: { authenticate: ({ token }) => ({ id: token }) } });
  });
  afterAll(() => app.close());

  it('is logged with the session trace id and counted by its last close code, not as an unknown event', async () => {
    const client = accepted(await app.connect({ token: 'mia' }));
    client.send(WS_CLIENT_REPORT_EVENT, { offlineMs: 4200, attempts: 3, closeCodes: [1012, 1006, 1006], lastRttMs: 12, lastErrorCode: 'CLOSE_1006' });
    const line = await app.logs.waitFor({ msg: 'ws.client_report', connection_trace_id: client.traceId });
    expect(line).toMatchObject({ trace_id: client.traceId, user_id: 'mia', offline_ms: 4200, failed_attempts: 3, close_codes: [1012, 1006, 1006], last_rtt_ms: 12, last_error_code: 'CLOSE_1006', level: 30 });
    const metrics = await app.metrics();
    expect(metricValue(metrics, 'ws_client_reports_total', { ...app.gatewayLabels, code: '1006' })).toBe(1);
    expect(metricValue(metrics, 'ws_message_errors_total', { ...app.gatewayLabels, event: 'unknown', code: 'UNKNOWN_EVENT' })).toBe(0);
    // The connection goes on as before.
    expect((await client.request('say', { text: 'still here' })).data).toEqual({ text: 'still here' });
    await client.close();
  });

  it('refuses a hostile report with an error frame, and none of it becomes a label or a log field', async () => {
    const client = accepted(await app.connect({ token: 'nina' }));
    const many: Record<string, number> = {};
    for (let i = 0; i < 3000; i++) many[`f${i}`] = i;
    const hostile: unknown[] = [
      many,
      { offlineMs: 'long', attempts: 1, closeCodes: [] },
      { offlineMs: 1, attempts: 1, closeCodes: [1006], lastErrorCode: 'EVIL\nLINE' },
      { offlineMs: 1, attempts: 1, closeCodes: Array.from({ length: 500 }, () => 1006) },
      { offlineMs: 1, attempts: 1, closeCodes: [1006], x: 'y'.repeat(2000) },
      'not an object',
    ];
    for (const report of hostile) {
      const answer = await client.request(WS_CLIENT_REPORT_EVENT, report, { reply: 'never' });
      expect(errorData(answer)).toMatchObject({ code: 'BAD_REQUEST', message: 'Invalid client report' });
    }
    const metrics = await app.metrics();
    expect(metrics).not.toMatch(/ws_client_reports_total\{[^}]*f1/);
    expect(metrics).not.toContain('EVIL');
    expect(app.logs.raw.join('\n')).not.toContain('EVIL');
    expect(app.logs.find({ msg: 'ws.client_report', connection_trace_id: client.traceId })).toEqual([]);
    await client.close();
  });
});
