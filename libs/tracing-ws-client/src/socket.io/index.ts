// `@tracing-ws/client/socket.io`: tracing for socket.io-client sockets. It never
// imports socket.io-client (the app passes its socket in), and the ws entry never
// imports this one.
export { TracingIoClient } from './tracing-io.client.js';
export type { IoRequestOptions, IoSendOptions } from './tracing-io.client.js';
export type { IoClientEvents, IoClosing, IoReply, IoSession, TracingIoClientOptions } from './tracing-io.events.js';
export { IoRefusalError, readIoRefusal } from './io-refusal.error.js';
export { withTraceparent } from './io-auth.js';
export type { IoAuth } from './io-auth.js';
export { IO_CLOSE_EVENT, IO_EXCEPTION_EVENT, IO_META_KEY, IO_RECONNECT_CODES, IO_SESSION_EVENT, ioMetaArgument, readIoAck, takeIoMeta } from './io-wire.js';
export type { IoAck, IoMetaArgument } from './io-wire.js';
