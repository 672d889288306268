/** socket.io-client's `auth` option: a payload, or a function that hands one over (called before every connection attempt). */
export type IoAuth = Readonly<Record<string, unknown>> | ((give: (payload: object) => void) => void);

/**
 * The `auth` of a socket that sends a fresh `traceparent` with every connection
 * attempt (`traceparent()` is called each time), next to what `auth` already
 * holds (the token). A `traceparent` the app put in `auth` itself wins.
 */
export function withTraceparent(auth: IoAuth | undefined, traceparent: () => string): (give: (payload: object) => void) => void {
  return (give) => {
    const add = (payload: object | null | undefined): void => give({ traceparent: traceparent(), ...payload });
    if (typeof auth === 'function') auth(add);
    else add(auth);
  };
}
