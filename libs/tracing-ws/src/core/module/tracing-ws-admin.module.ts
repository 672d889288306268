import { Module, type CanActivate, type DynamicModule, type Type } from '@nestjs/common';
import { WsAdminCluster } from '../admin/ws-admin.cluster.js';
import { WsAdminInstance } from '../admin/ws-admin.instance.js';
import { WsAdminMetrics } from '../admin/ws-admin.metrics.js';
import { ADMIN_OPTIONS } from '../model/tracing-ws.tokens.js';
import { resolveAdminOptions } from '../options/tracing-ws-admin.option-rules.js';
import type { TracingWsAdminOptions } from '../options/tracing-ws-admin.options.js';
import { createAdminController } from './ws-admin.controller.js';
import { WsAdminHookGuard, WsAdminMarkGuard } from './ws-admin.guards.js';

/**
 * The opt-in admin surface (README, "Live operations"): list live connections on every
 * instance, disconnect them, watch one user's sessions as they happen (Server-Sent
 * Events), raise one user's message lines for a while. Mounted only when the app
 * imports it, next to `TracingWsModule`; every route runs the app's guard or
 * `canActivate` hook first, and the module refuses to start without one.
 *
 * @example
 * TracingWsAdminModule.forRoot({ path: 'admin', guard: OperatorGuard })
 */
@Module({})
export class TracingWsAdminModule {
  static forRoot(options: TracingWsAdminOptions): DynamicModule {
    const resolved = resolveAdminOptions(options);
    const guards: Array<Type<CanActivate>> = [WsAdminMarkGuard, ...(resolved.canActivate ? [WsAdminHookGuard] : []), ...(resolved.guard ? [resolved.guard] : [])];
    return {
      module: TracingWsAdminModule,
      imports: [...resolved.imports],
      controllers: [createAdminController(resolved.path, guards)],
      providers: [{ provide: ADMIN_OPTIONS, useValue: resolved }, WsAdminMetrics, WsAdminInstance, WsAdminCluster, ...guards],
    };
  }
}
