/** The transport's object whose `close` says the client left (an upgrade's TCP socket, an engine.io connection). */
export interface WsClosable {
  once(event: 'close', listener: () => void): unknown;
  removeListener(event: 'close', listener: () => void): unknown;
}

/**
 * Between an accepted check and the connection's open, a client that leaves must give its
 * slot back (`abandon`: the admission slot, the handshake span). Watches `closable` for
 * that, and calls `abandon` at once when it has already closed (`closed`: a client that
 * reset while the check ran, whose `close` was emitted before anyone listened). Returns
 * what the transport calls when the connection opens: the listener goes, so that it does
 * not keep the handshake (request, outcome, span) alive for the connection's whole life.
 */
export function watchAbandon(closable: WsClosable, closed: boolean, abandon: () => void): () => void {
  let done = false;
  const onClose = (): void => {
    if (done) return;
    done = true;
    abandon();
  };
  closable.once('close', onClose);
  if (closed) onClose();
  return () => {
    done = true;
    closable.removeListener('close', onClose);
  };
}
