import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startApp, type TestApp } from '../support/app.js';
import { connect } from '../support/ws-client.js';
import { authenticate, ResilienceGateway } from '../fixtures/resilience.gateway.js';

describe('validation failures', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({ gateways: [ResilienceGateway], tracing: { authenticate } });
  });
  afterAll(() => t.close());

  it('maps a ValidationPipe failure to VALIDATION_FAILED with the field errors', async () => {
    const socket = await connect(`${t.wsUrl}/r`);
    const frame = await socket.request('book', { room: '', seats: 99 }, 'booked');
    expect(frame.event).toBe('error');
    expect(frame.data.code).toBe('VALIDATION_FAILED');
    expect(frame.data.details).toEqual(expect.arrayContaining(['room must be longer than or equal to 1 characters', 'seats must not be greater than 10']));
    expect((await socket.request('book', { room: 'a', seats: 2 }, 'booked')).data).toEqual({ room: 'a', seats: 2 });
    await socket.close();
  });

  it('maps a Standard Schema failure (StandardSchemaValidationPipe, zod) to VALIDATION_FAILED', async () => {
    const socket = await connect(`${t.wsUrl}/r`);
    const frame = await socket.request('rate', { stars: 9, comment: 'x'.repeat(30) }, 'rated');
    expect(frame.data.code).toBe('VALIDATION_FAILED');
    expect(frame.data.details).toHaveLength(2);
    expect(JSON.stringify(frame.data.details)).toMatch(/stars/);
    expect((await socket.request('rate', { stars: 4, comment: 'good' }, 'rated')).data).toEqual({ stars: 4, comment: 'good' });
    await socket.close();
  });
});
