import { WS_CLOSE_CODES as C } from './ws-protocol.js';

/** What the client does after a close. */
export type WsCloseAction = 'reconnect' | 'stop' | 'reauthenticate';

/** The client's reaction to one close code. */
export interface WsCloseDecision {
  action: WsCloseAction;
  /** For `reconnect`: the shortest wait, for servers that asked to be left alone for a while. */
  slowDown: boolean;
}

const STOP: WsCloseDecision = { action: 'stop', slowDown: false };
const RECONNECT: WsCloseDecision = { action: 'reconnect', slowDown: false };
const LATER: WsCloseDecision = { action: 'reconnect', slowDown: true };

/** The server's close code table (its README, "Close codes"), plus the standard codes a browser can report. */
const DECISIONS: ReadonlyMap<number, WsCloseDecision> = new Map([
  [C.normal, STOP],
  [C.goingAway, RECONNECT],
  [1002, STOP], // protocol error: retrying sends the same bytes
  [1003, STOP], // unsupported data
  [1005, RECONNECT], // no status: the peer closed without saying why
  [C.abnormal, RECONNECT],
  [1007, STOP], // invalid payload data
  [1008, STOP], // policy violation
  [C.messageTooBig, RECONNECT], // the message was at fault, not the session
  [1010, STOP], // missing extension
  [C.internalError, RECONNECT],
  [1012, RECONNECT], // service restart
  [C.tryAgainLater, LATER],
  [1014, RECONNECT], // bad gateway
  [1015, STOP], // TLS handshake failure
  [C.unauthorized, { action: 'reauthenticate', slowDown: false }],
  [C.forbidden, STOP],
  [C.heartbeatTimeout, RECONNECT],
  [C.rateLimited, LATER],
]);

/**
 * Decides what to do after the socket closed with `code`. Codes the table does
 * not list: 4xxx mirrors HTTP, so 4000-4499 (client errors) stop and 4500-4999
 * (server errors) reconnect; anything else reconnects.
 */
export function decideOnClose(code: number): WsCloseDecision {
  const known = DECISIONS.get(code);
  if (known) return known;
  if (code >= 4000 && code < 4500) return STOP;
  return RECONNECT;
}
