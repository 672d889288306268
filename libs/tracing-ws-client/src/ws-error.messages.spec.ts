import { describe, expect, it } from '@jest/globals';
import { WsClientError } from './ws-client.error.js';
import { WS_DEFAULT_MESSAGES, WsMessages } from './ws-error.messages.js';
import { WS_ERROR_CODES } from './ws-protocol.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

describe('WsMessages (user-facing texts)', () => {
  it('has a text for every server error code and every close code of the table', () => {
    for (const code of Object.values(WS_ERROR_CODES)) expect(WS_DEFAULT_MESSAGES[`error.${code}`]).toEqual(expect.any(String));
    for (const code of [1000, 1001, 1006, 1009, 1011, 1013, 4401, 4403, 4408, 4429]) expect(WS_DEFAULT_MESSAGES[`close.${code}`]).toEqual(expect.any(String));
  });

  it('maps error codes to friendly texts, never to the raw code', () => {
    const messages = new WsMessages();
    expect(messages.error('RATE_LIMITED')).toBe('You are going a bit fast. Please wait a moment and try again.');
    expect(messages.error('INTERNAL', 'Internal server error')).toBe('Something went wrong on our side.');
    expect(messages.error('BAD_REQUEST', 'join the room first')).toBe('That request was not accepted: join the room first');
  });

  it('falls back to a generic text for codes it does not know', () => {
    const messages = new WsMessages();
    expect(messages.error('TEAPOT')).toBe('Something went wrong.');
    expect(messages.close(4999)).toBe('The connection was closed (code 4999).');
    expect(messages.close(1001)).toBe('The server is restarting.');
  });

  it('takes overrides by key and keeps the defaults for the rest', () => {
    const messages = new WsMessages({ 'error.RATE_LIMITED': 'Doucement !', 'close.1006': 'Serveur injoignable (code {code}).' });
    expect(messages.error('RATE_LIMITED')).toBe('Doucement !');
    expect(messages.close(1006)).toBe('Serveur injoignable (code 1006).');
    expect(messages.error('FORBIDDEN')).toBe('You are not allowed to do that.');
  });

  it('takes a translate function (i18n) with stable keys and params, and survives one that throws', () => {
    const seen: Array<[string, unknown]> = [];
    const messages = new WsMessages((key, params) => {
      seen.push([key, params]);
      if (key === 'support') return `Référence : ${params.traceId}`;
      if (key === 'error.FORBIDDEN') throw new Error('missing catalog');
      return undefined;
    });
    expect(messages.support(TRACE)).toBe(`Référence : ${TRACE}`);
    expect(messages.error('FORBIDDEN')).toBe('You are not allowed to do that.');
    expect(seen[0]).toEqual(['support', { traceId: TRACE }]);
  });

  it('builds an error from an error frame with the trace id to quote', () => {
    const error = WsClientError.from({ code: 'INTERNAL', message: 'Internal server error', traceId: TRACE, retryable: false }, new WsMessages(), { event: 'message', id: 'a-1' });
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ code: 'INTERNAL', message: 'Internal server error', userMessage: 'Something went wrong on our side.', traceId: TRACE, event: 'message', id: 'a-1', retryable: false });
    expect(error.supportText).toBe(`Quote this id to support: ${TRACE}`);
  });
});
