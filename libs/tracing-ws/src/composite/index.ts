// `@tracing-ws/nestjs/composite`: ws and socket.io gateways in one app. It loads both
// transports, so it has an entry of its own: an app on one transport never imports it.
export { TracingCompositeAdapter, type TracingCompositeAdapterOptions } from './tracing-composite.adapter.js';
export type { WsTransportName } from '../core/model/ws-transport.js';
