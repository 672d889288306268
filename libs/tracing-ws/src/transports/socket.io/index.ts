// `@tracing-ws/nestjs/socket.io`: the socket.io transport. Only this entry point
// loads `socket.io` and `@nestjs/platform-socket.io`, so an app on ws never needs them;
// `@socket.io/redis-adapter` is loaded only by `createTracedRedisAdapter`.
export { TracingIoAdapter } from './tracing-io.adapter.js';
export { createTracedRedisAdapter } from './traced-redis.adapter.js';
export type { TracedRedisAdapterFactory, TracedRedisAdapterOptions } from './traced-redis.adapter.js';
export type { RedisPublisher } from './io-broadcast.telemetry.js';
export { IO_CLOSE_EVENT, IO_EXCEPTION_EVENT, IO_META_KEY, IO_SESSION_EVENT } from '../../core/model/io-wire.js';
export type { IoRefusalData } from './io-protocol.js';
