import { ConfigurableModuleBuilder, type Type } from '@nestjs/common';
import { WsHandshakeGuard } from '../handshake/ws-handshake.guard.js';
import type { TracingWsModuleOptions } from '../options/tracing-ws.options.js';

/** Module-level settings that are not options of the running library. */
export interface TracingWsModuleExtras {
  /**
   * Register the module globally, so gateways in any module get its providers.
   * @defaultValue `true`
   */
  isGlobal?: boolean;
  /**
   * A subclass of {@link WsHandshakeGuard} to run instead of the default one.
   * @defaultValue `WsHandshakeGuard`
   */
  guard?: Type<WsHandshakeGuard>;
}

export const {
  ConfigurableModuleClass: TracingWsConfigurableModule,
  MODULE_OPTIONS_TOKEN: TRACING_WS_MODULE_OPTIONS,
  OPTIONS_TYPE: TRACING_WS_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: TRACING_WS_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<TracingWsModuleOptions>({ moduleName: 'TracingWs' })
  .setClassMethodName('forRoot')
  .setExtras<TracingWsModuleExtras>({ isGlobal: true, guard: undefined }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
    providers: [...(definition.providers ?? []), ...(extras.guard ? [{ provide: WsHandshakeGuard, useClass: extras.guard }] : [])],
  }))
  .build();
