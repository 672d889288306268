import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { RESILIENCE_APP, SampleProcess } from '../support/sample-process.js';
import { connect } from '../support/ws-client.js';

/** Resident memory of a process, in MiB (Linux). */
function rssMiB(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]!;
  return Number(kb) / 1024;
}

/**
 * A client that floods pings and never reads: pings cost the same budget as
 * messages, so it is closed by the rate limit, and the server holds no pile of
 * pongs. Run against the resilience app as its own process, whose memory is measured.
 */
describe('a ping flood from a client that never reads', () => {
  let app: SampleProcess;
  beforeAll(async () => {
    app = await SampleProcess.start({ LOG_LEVEL: 'info' }, RESILIENCE_APP);
  });
  afterAll(() => app.stop());

  it('is closed within 2 s (4429, by policy) and the server grows by less than 32 MiB', async () => {
    const pid = app.child.pid!;
    const client = await connect(`${app.wsUrl}/r`);
    const traceId = client.upgradeHeaders['x-trace-id'] as string;
    (client.ws as unknown as { _socket: Socket })._socket.pause();
    const before = rssMiB(pid);
    const payload = Buffer.alloc(125, 1); // the largest control frame
    const started = Date.now();
    let sent = 0;
    // Bounded: pings in batches for at most 4 s, or until the server closes the connection.
    while (Date.now() - started < 4000 && client.ws.readyState === client.ws.OPEN) {
      for (let i = 0; i < 500; i++) client.ws.ping(payload);
      sent += 500;
      await new Promise((r) => setImmediate(r));
      if (app.find({ msg: 'ws.disconnected', connection_trace_id: traceId }).length > 0) break;
    }
    const gone = await app.waitForLog({ msg: 'ws.disconnected', connection_trace_id: traceId }, 5000);
    const decided = app.find({ msg: 'ws.closed_for_abuse', connection_trace_id: traceId })[0]!;
    expect(decided).toMatchObject({ reason: 'rate_limit', code: 4429 });
    expect(gone).toMatchObject({ code: 4429, closed_by: 'policy' });
    expect((decided.time as number) - started).toBeLessThan(2000);
    expect(sent).toBeGreaterThan(2000);
    expect(rssMiB(pid) - before).toBeLessThan(32);
    client.ws.terminate();
  });
});
