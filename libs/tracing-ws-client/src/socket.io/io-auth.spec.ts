import { describe, expect, it } from '@jest/globals';
import { withTraceparent } from './io-auth.js';

function payloadOf(auth: ReturnType<typeof withTraceparent>): object {
  let payload: object | undefined;
  auth((p) => (payload = p));
  return payload!;
}

describe('withTraceparent (the auth payload of every connection attempt)', () => {
  it('adds a fresh traceparent to each attempt, next to the token', () => {
    let n = 0;
    const auth = withTraceparent({ token: 'alice-token' }, () => `tp-${++n}`);
    expect(payloadOf(auth)).toEqual({ token: 'alice-token', traceparent: 'tp-1' });
    expect(payloadOf(auth)).toEqual({ token: 'alice-token', traceparent: 'tp-2' });
  });

  it("calls the app's auth function on every attempt (a token refreshed each time)", () => {
    let token = 0;
    const auth = withTraceparent((give) => give({ token: `t${++token}` }), () => 'tp');
    expect(payloadOf(auth)).toEqual({ token: 't1', traceparent: 'tp' });
    expect(payloadOf(auth)).toEqual({ token: 't2', traceparent: 'tp' });
  });

  it('sends only the traceparent without auth, and keeps a traceparent the app chose', () => {
    expect(payloadOf(withTraceparent(undefined, () => 'tp'))).toEqual({ traceparent: 'tp' });
    expect(payloadOf(withTraceparent({ traceparent: 'mine' }, () => 'tp'))).toEqual({ traceparent: 'mine' });
  });
});
