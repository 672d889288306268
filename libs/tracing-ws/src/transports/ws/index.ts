// `@tracing-ws/nestjs/ws`: the ws transport on its own entry point, as every
// transport has one (the root entry re-exports it, since ws is the default).
export { TracingWsAdapter } from './tracing-ws.adapter.js';
