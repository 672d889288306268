import type { WsAcceptedHandshake } from './ws-handshake.outcome.js';

/** The transport's object whose `close` says the client left (an upgrade's TCP socket, an engine.io connection). */
export interface WsClosable {
  once(event: 'close', listener: () => void): unknown;
  removeListener(event: 'close', listener: () => void): unknown;
}

/** Where an accepted handshake waits on the transport's object (upgrade request, socket.io Socket) until the connection opens. */
const PENDING = Symbol('tracing-ws:pending-handshake');
type Holder = { [PENDING]?: { readonly outcome: WsAcceptedHandshake; readonly stopWatching: () => void } };

/**
 * Keeps an accepted handshake on `holder` until the transport opens the connection
 * ({@link takeHandshake}). A client that leaves before that must give its slot back
 * (`abandon`: the admission slot, the handshake span): `closable` is watched for it, and
 * `abandon` runs at once when it has already closed (`closed`: a client that reset while the
 * check ran, whose `close` was emitted before anyone listened). It runs at most once.
 */
export function holdHandshake(holder: object, outcome: WsAcceptedHandshake, closable: WsClosable, closed: boolean, abandon: () => void): void {
  let done = false;
  const onClose = (): void => {
    if (done) return;
    done = true;
    abandon();
  };
  closable.once('close', onClose);
  (holder as Holder)[PENDING] = {
    outcome,
    stopWatching: () => {
      done = true;
      closable.removeListener('close', onClose);
    },
  };
  if (closed) onClose();
}

/** The handshake `holder` carries, before the connection opens. */
export function heldHandshake(holder: object): WsAcceptedHandshake | undefined {
  return (holder as Holder)[PENDING]?.outcome;
}

/**
 * Takes the handshake off `holder` as the connection opens: the slot is the connection's now.
 * The abandon watch goes, so that it does not keep the handshake (request, outcome, span) alive
 * for the connection's whole life, and the property is cleared, not deleted: a delete turns
 * the holder (a socket.io Socket, kept for the connection's life) into a dictionary-mode
 * object, ≈ 650 B more per connection and slower property reads.
 */
export function takeHandshake(holder: object): WsAcceptedHandshake | undefined {
  const pending = (holder as Holder)[PENDING];
  if (!pending) return undefined;
  pending.stopWatching();
  (holder as Holder)[PENDING] = undefined;
  return pending.outcome;
}
