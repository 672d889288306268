import { describe, expect, it } from '@jest/globals';
import { WsClientError } from '../ws-client.error.js';
import { WsMessages } from '../ws-error.messages.js';
import { IoRefusalError, readIoRefusal } from './io-refusal.error.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

function connectError(message: string, data?: unknown): Error {
  return Object.assign(new Error(message), data === undefined ? {} : { data });
}

describe('readIoRefusal (connect_error → IoRefusalError)', () => {
  const messages = new WsMessages();

  it('turns a refused credential into an error a page can show, with the refusal trace id to quote', () => {
    const err = readIoRefusal(connectError('Unauthorized', { code: 'UNAUTHORIZED', status: 401, traceId: TRACE }), messages)!;
    expect(err).toBeInstanceOf(IoRefusalError);
    expect(err).toBeInstanceOf(WsClientError);
    expect(err).toMatchObject({ code: 'UNAUTHORIZED', status: 401, traceId: TRACE, retryable: false, message: 'Unauthorized' });
    // The text of a refused handshake, as on ws.
    expect(err.userMessage).toBe('The server refused your token. Please sign in again.');
    expect(err.supportText).toBe(`Quote this id to support: ${TRACE}`);
  });

  it('words every refusal by its status, never with the server text', () => {
    expect(readIoRefusal(connectError('account suspended', { code: 'FORBIDDEN', status: 403, traceId: TRACE }), messages)!.userMessage).toBe('The server does not allow this page to connect.');
    expect(readIoRefusal(connectError('Too Many Requests', { code: 'RATE_LIMITED', status: 429, traceId: TRACE }), messages)!.userMessage).toBe('The server refused the connection (HTTP 429).');
  });

  it('calls a limit retryable, a credential not', () => {
    expect(readIoRefusal(connectError('Too Many Requests', { code: 'RATE_LIMITED', status: 429, traceId: TRACE }), messages)!.retryable).toBe(true);
    expect(readIoRefusal(connectError('Service Unavailable', { code: 'UNAVAILABLE', status: 503, traceId: TRACE }), messages)!.retryable).toBe(true);
    expect(readIoRefusal(connectError('Forbidden', { code: 'FORBIDDEN', status: 403, traceId: TRACE }), messages)!.retryable).toBe(false);
  });

  it('uses the overridden texts', () => {
    const french = new WsMessages({ 'refused.401': 'Reconnectez-vous.', support: 'Référence : {traceId}' });
    const err = readIoRefusal(connectError('Unauthorized', { code: 'UNAUTHORIZED', status: 401, traceId: TRACE }), french)!;
    expect([err.userMessage, err.supportText]).toEqual(['Reconnectez-vous.', `Référence : ${TRACE}`]);
  });

  it('is not a refusal without the server data: a network or transport failure, which socket.io-client retries', () => {
    expect(readIoRefusal(connectError('websocket error'), messages)).toBeUndefined();
    expect(readIoRefusal(connectError('xhr poll error', { status: 0 }), messages)).toBeUndefined();
    expect(readIoRefusal(null, messages)).toBeUndefined();
  });

  it('keeps a refusal without a trace id without a support text', () => {
    const err = readIoRefusal(connectError('Unauthorized', { code: 'UNAUTHORIZED', status: 401 }), messages)!;
    expect([err.traceId, err.supportText]).toEqual([undefined, undefined]);
  });
});
