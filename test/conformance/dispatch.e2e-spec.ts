import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { UsePipes, ValidationPipe } from '@nestjs/common';
import { MessageBody, SubscribeMessage, WebSocketGateway, WsException } from '@nestjs/websockets';
import { SpanStatusCode } from '@opentelemetry/api';
import { TracedGateway } from '@tracing-ws/nestjs';
import { JoinDto } from '../fixtures/resilience.gateway.js';
import { accepted, CONFORMANCE_PATH, errorData, type HarnessApp, type HarnessClient } from './harness.js';
import { TRANSPORTS } from './transports.js';

@TracedGateway()
@WebSocketGateway({ path: CONFORMANCE_PATH })
class DispatchGateway {
  @SubscribeMessage('echo')
  echo(_client: unknown, data: unknown) {
    return { event: 'echo', data };
  }

  @SubscribeMessage('refuse')
  refuse(): never {
    throw new WsException('room is full');
  }

  @SubscribeMessage('book')
  @UsePipes(new ValidationPipe())
  book(@MessageBody() body: JoinDto) {
    return { event: 'booked', data: body };
  }

  @SubscribeMessage('explode')
  async explode(): Promise<never> {
    await Promise.resolve();
    throw new Error('secret internal detail: db at 10.1.2.3');
  }
}

const TRACE_ID = /^[0-9a-f]{32}$/;

describe.each(TRANSPORTS)('dispatch over $name', (harness) => {
  let app: HarnessApp;
  let client: HarnessClient;

  beforeAll(async () => {
    app = await harness.start({ gateways: [DispatchGateway] });
    client = accepted(await app.connect());
  });
  afterAll(async () => {
    await client.close();
    await app.close();
  });

  it("answers with the reply's event and data, meta.traceId of the message span, and the request's meta.id", async () => {
    const reply = await client.request('echo', { a: 1 }, { meta: { id: 'm-1' } });
    expect(reply.event).toBe('echo');
    expect(reply.data).toEqual({ a: 1 });
    expect(reply.meta).toEqual({ id: 'm-1', traceId: expect.stringMatching(TRACE_ID) });
    const span = await app.waitForSpan((s) => s.name === 'process echo' && s.spanContext().traceId === reply.meta?.traceId);
    expect(span.attributes['messaging.message.id']).toBe('m-1');
  });

  it('turns a WsException into a BAD_REQUEST error frame with its message', async () => {
    const frame = await client.request('refuse', null, { meta: { id: 'r-1' } });
    const error = errorData(frame);
    expect(error).toEqual({ code: 'BAD_REQUEST', message: 'room is full', traceId: expect.stringMatching(TRACE_ID), retryable: false });
    expect(frame.meta).toEqual({ id: 'r-1', traceId: error.traceId });
  });

  it('turns a ValidationPipe failure into VALIDATION_FAILED with the field errors, and serves the valid request', async () => {
    const error = errorData(await client.request('book', { room: '', seats: 99 }, { reply: 'booked' }));
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.retryable).toBe(false);
    expect(error.details).toEqual(expect.arrayContaining(['room must be longer than or equal to 1 characters', 'seats must not be greater than 10']));
    expect((await client.request('book', { room: 'a', seats: 2 }, { reply: 'booked' })).data).toEqual({ room: 'a', seats: 2 });
  });

  it('turns an unexpected Error into INTERNAL with a generic message; its text and stack go to the log only', async () => {
    const frame = await client.request('explode', null, { meta: { id: 'x-1' } });
    const error = errorData(frame);
    expect(error).toEqual({ code: 'INTERNAL', message: 'Internal server error', traceId: expect.stringMatching(TRACE_ID), retryable: false });
    expect(frame.meta).toEqual({ id: 'x-1', traceId: error.traceId });
    expect(JSON.stringify(frame)).not.toContain('10.1.2.3');
    const failed = await app.logs.waitFor({ msg: 'ws.message_failed', trace_id: error.traceId });
    expect(failed.error_code).toBe('INTERNAL');
    expect((failed.err as { stack: string }).stack).toContain('secret internal detail');
    const span = await app.waitForSpan((s) => s.name === 'process explode' && s.spanContext().traceId === error.traceId);
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    // The connection is still served.
    expect((await client.request('echo', 'still here')).data).toBe('still here');
  });

  it("answers an unknown event with UNKNOWN_EVENT under the connection's trace id, and keeps the connection", async () => {
    const frame = await client.request('no-such-event', { x: 1 }, { meta: { id: 'u-1' } });
    expect(errorData(frame)).toEqual({ code: 'UNKNOWN_EVENT', message: 'Unknown event', traceId: client.traceId, retryable: false });
    expect(frame.meta?.id).toBe('u-1');
    expect((await client.request('echo', 'after')).data).toBe('after');
  });
});
