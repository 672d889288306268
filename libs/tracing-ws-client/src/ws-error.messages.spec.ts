import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WsClientError } from './ws-client.error.js';
import { WS_DEFAULT_MESSAGES, WS_SERVER_TEXT_CODES, WS_STOCK_SERVER_TEXTS, WsMessages } from './ws-error.messages.js';
import { WS_CLIENT_ERROR_CODES, WS_ERROR_CODES } from './ws-protocol.js';

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

describe('when the server\'s text is shown (one rule, documented in the README)', () => {
  const SERVER_TEXT = 'message rejected by moderation';
  const messages = new WsMessages();

  it('shows the text the application wrote for a FORBIDDEN refusal', () => {
    expect(messages.error('FORBIDDEN', SERVER_TEXT)).toBe('You are not allowed to do that: message rejected by moderation');
  });

  it('shows it for exactly the refusals an application words (BAD_REQUEST, UNAUTHORIZED, FORBIDDEN), never for the others', () => {
    const codes = [...Object.values(WS_ERROR_CODES), ...Object.values(WS_CLIENT_ERROR_CODES), 'TEAPOT'];
    const shown = codes.filter((code) => messages.error(code, SERVER_TEXT).includes(SERVER_TEXT));
    expect(shown).toEqual(['BAD_REQUEST', 'UNAUTHORIZED', 'FORBIDDEN']);
    expect([...WS_SERVER_TEXT_CODES]).toEqual(shown);
  });

  it('never shows the generic INTERNAL text or a library text meant for developers', () => {
    expect(messages.error('INTERNAL', 'Internal server error')).toBe('Something went wrong on our side.');
    expect(messages.error('UNKNOWN_EVENT', 'Unknown event')).not.toContain('Unknown event');
    expect(messages.error('RATE_LIMITED', 'Too many messages; slow down')).toBe('You are going a bit fast. Please wait a moment and try again.');
  });

  it("drops an empty text and NestJS's stock texts that only restate the code", () => {
    expect(messages.error('FORBIDDEN', 'Forbidden resource')).toBe('You are not allowed to do that.');
    expect(messages.error('FORBIDDEN', '  forbidden ')).toBe('You are not allowed to do that.');
    expect(messages.error('UNAUTHORIZED', 'Unauthorized')).toBe('Please sign in again.');
    expect(messages.error('BAD_REQUEST', 'Bad Request')).toBe('That request was not accepted.');
    expect(messages.error('BAD_REQUEST', '   ')).toBe('That request was not accepted.');
    for (const stock of WS_STOCK_SERVER_TEXTS) expect(messages.error('FORBIDDEN', stock)).not.toContain(stock);
  });

  it('lets an override of the code win, with the server text available as {serverMessage}', () => {
    expect(new WsMessages({ 'error.FORBIDDEN': 'Nope.' }).error('FORBIDDEN', SERVER_TEXT)).toBe('Nope.');
    expect(new WsMessages({ 'error.FORBIDDEN.reason': 'Refusé : {serverMessage}' }).error('FORBIDDEN', SERVER_TEXT)).toBe('Refusé : message rejected by moderation');
    expect(new WsMessages({ 'error.FORBIDDEN.reason': 'Refusé : {serverMessage}' }).error('FORBIDDEN')).toBe('You are not allowed to do that.');
    const asked: string[] = [];
    new WsMessages((key) => void asked.push(key)).error('FORBIDDEN', SERVER_TEXT);
    expect(asked).toEqual(['error.FORBIDDEN.reason', 'error.FORBIDDEN']);
  });

  it('words a refused handshake by its status, never with the server\'s reason', () => {
    const messages = new WsMessages();
    expect(messages.refused(401, 'invalid_credentials')).toBe('The server refused your token. Please sign in again.');
    expect(messages.refused(403, 'origin_not_allowed')).toBe('The server does not allow this page to connect.');
    expect(messages.refused(418)).toBe('The server refused the connection (HTTP 418).');
    expect(new WsMessages({ 'refused.401': 'Jeton refusé ({reason}).' }).refused(401, 'invalid_credentials')).toBe('Jeton refusé (invalid_credentials).');
  });

  it('has both texts for every code of the rule', () => {
    for (const code of WS_SERVER_TEXT_CODES) {
      expect(WS_DEFAULT_MESSAGES[`error.${code}`]).not.toContain('{serverMessage}');
      expect(WS_DEFAULT_MESSAGES[`error.${code}.reason`]).toContain('{serverMessage}');
    }
  });

  it("is the rule the package README states (its table lists the same codes and stock texts)", () => {
    const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');
    const section = /### When the server's text is shown\n([\s\S]*?)\n## /.exec(readme)?.[1] ?? '';
    const rows = [...section.matchAll(/^\| `([A-Z_]+)`[^|]*\| (yes|no)\b/gm)].map((m) => [m[1], m[2]] as const);
    expect(rows.filter(([, shown]) => shown === 'yes').map(([code]) => code)).toEqual([...WS_SERVER_TEXT_CODES]);
    expect(rows.map(([code]) => code).sort()).toEqual([...Object.values(WS_ERROR_CODES), ...Object.values(WS_CLIENT_ERROR_CODES)].sort());
    for (const stock of WS_STOCK_SERVER_TEXTS) expect(section).toContain(`\`${stock}\``);
  });
});
