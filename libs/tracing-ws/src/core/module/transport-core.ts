import type { INestApplicationContext } from '@nestjs/common';
import { ClsService } from 'nestjs-cls';
import { WsMessageDispatcher } from '../dispatch/ws-message.dispatcher.js';
import { WsGatewayRegistry } from '../handshake/ws-gateway.registry.js';
import { WsHandshakeGuard } from '../handshake/ws-handshake.guard.js';
import { WsConnectionLifecycle } from '../lifecycle/ws-connection.lifecycle.js';
import { WsHeartbeat } from '../lifecycle/ws-heartbeat.js';
import { RESOLVED_OPTIONS } from '../model/tracing-ws.tokens.js';
import type { ResolvedTracingWsOptions } from '../options/tracing-ws.options.js';

/** The core services a transport adapter drives, resolved once from the app. Internal. */
export interface WsTransportCore {
  readonly options: ResolvedTracingWsOptions;
  readonly guard: WsHandshakeGuard;
  readonly lifecycle: WsConnectionLifecycle;
  readonly dispatcher: WsMessageDispatcher;
  readonly heartbeat: WsHeartbeat;
  readonly cls: ClsService;
  readonly gateways: WsGatewayRegistry;
}

/**
 * Resolves the core from `app` for the adapter named `adapter`, with an error
 * that names the fix when TracingWsModule is not imported.
 */
export function resolveTransportCore(app: INestApplicationContext, adapter: string): WsTransportCore {
  let options: ResolvedTracingWsOptions;
  try {
    options = app.get<ResolvedTracingWsOptions>(RESOLVED_OPTIONS, { strict: false });
  } catch {
    throw new Error(`${adapter}: TracingWsModule is not imported. Add TracingWsModule.forRoot() (or forRootAsync) to the imports of your root module.`);
  }
  const get = <T>(token: abstract new (...args: never[]) => T): T => app.get(token as never, { strict: false }) as T;
  return {
    options,
    guard: get(WsHandshakeGuard),
    lifecycle: get(WsConnectionLifecycle),
    dispatcher: get(WsMessageDispatcher),
    heartbeat: get(WsHeartbeat),
    cls: get(ClsService),
    gateways: get(WsGatewayRegistry),
  };
}
