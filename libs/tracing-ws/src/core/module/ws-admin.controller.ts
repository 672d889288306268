import { BadRequestException, Controller, Delete, Get, HttpException, HttpStatus, Inject, Param, Post, Query, Res, UseGuards, type CanActivate, type Type } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { WsAdminCluster, type WsClusterAnswer } from '../admin/ws-admin.cluster.js';
import { optionalId, readChoice, readCloseCode, readDuration, readPathFilter, readReason, readTarget, WS_ADMIN_BAD_REQUEST, WsAdminInputError } from '../admin/ws-admin.ids.js';
import { WsAdminMetrics } from '../admin/ws-admin.metrics.js';
import { WsWatchStream } from '../admin/ws-admin.stream.js';
import { ADMIN_OPTIONS } from '../model/tracing-ws.tokens.js';
import type { WsTransportName } from '../model/ws-transport.js';
import { WS_ADMIN_DEBUG_LEVELS, type ResolvedTracingWsAdminOptions } from '../options/tracing-ws-admin.options.js';

type QueryParams = Record<string, unknown>;

/** Runs `read` on the request's input; a bad value becomes a 400 with the reader's fixed message (never the value). */
function input<T>(read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof WsAdminInputError) throw new BadRequestException(err.message);
    throw err;
  }
}

/** An answer of every instance as JSON: whether all answered, which did, and the result. */
function body<T extends object>(answer: WsClusterAnswer<T>): T & { complete: boolean; instances: string[] } {
  return { complete: answer.complete, instances: answer.instances, ...answer.result };
}

const TRANSPORTS: readonly WsTransportName[] = ['ws', 'socket.io'];

/**
 * The admin routes under `path`, guarded by `guards` (the request marker first, then
 * the application's hook or guard). Made per `forRoot()`: a controller's path is fixed
 * when its class is declared. Internal (README, "Live operations", lists the routes).
 */
export function createAdminController(path: string, guards: Array<Type<CanActivate>>): Type<unknown> {
  @Controller(path)
  @UseGuards(...guards)
  class TracingWsAdminController {
    constructor(
      @Inject(WsAdminCluster) private readonly cluster: WsAdminCluster,
      @Inject(ADMIN_OPTIONS) private readonly options: ResolvedTracingWsAdminOptions,
      @Inject(WsAdminMetrics) private readonly metrics: WsAdminMetrics,
    ) {}

    /** `GET <path>/connections?user=&connection=&path=&transport=`: live connections on every instance. */
    @Get('connections')
    async list(@Query() q: QueryParams) {
      const filter = input(() => ({
        user: optionalId(q.user, WS_ADMIN_BAD_REQUEST.user),
        connection: optionalId(q.connection, WS_ADMIN_BAD_REQUEST.connection),
        path: readPathFilter(q.path),
        transport: readChoice(q.transport, TRANSPORTS, WS_ADMIN_BAD_REQUEST.filter),
      }));
      return body(await this.cluster.connections(filter));
    }

    /** `DELETE <path>/connections/<connectionId>?code=&reason=`: closes one connection, wherever it is. */
    @Delete('connections/:connectionId')
    async disconnectOne(@Param('connectionId') connectionId: unknown, @Query() q: QueryParams) {
      const { target, code, reason } = input(() => ({ target: readTarget(undefined, connectionId), code: readCloseCode(q.code), reason: readReason(q.reason) }));
      return body(await this.cluster.disconnect(target, code, reason));
    }

    /** `DELETE <path>/connections?user=<id>&code=&reason=`: closes every connection of one user. */
    @Delete('connections')
    async disconnectUser(@Query() q: QueryParams) {
      const { target, code, reason } = input(() => ({ target: readTarget(q.user, undefined), code: readCloseCode(q.code), reason: readReason(q.reason) }));
      return body(await this.cluster.disconnect(target, code, reason));
    }

    /** `POST <path>/debug?user=|connection=&level=info&durationMs=`: raises that user's message lines, on every instance. */
    @Post('debug')
    async debug(@Query() q: QueryParams) {
      const { target, level, durationMs } = input(() => ({
        target: readTarget(q.user, q.connection),
        level: readChoice(q.level ?? 'info', WS_ADMIN_DEBUG_LEVELS, WS_ADMIN_BAD_REQUEST.level),
        durationMs: readDuration(q.durationMs, this.options.maxDebugMs),
      }));
      return body(await this.cluster.debug(target, level, durationMs));
    }

    /** `DELETE <path>/debug?user=|connection=`: ends a debug session. */
    @Delete('debug')
    async undebug(@Query() q: QueryParams) {
      const target = input(() => readTarget(q.user, q.connection));
      return body(await this.cluster.debug(target, undefined, 0));
    }

    /** `GET <path>/trace?user=|connection=&payloads=1&durationMs=`: the live trace, as Server-Sent Events. */
    @Get('trace')
    async trace(@Query() q: QueryParams, @Res() res: ServerResponse | { raw: ServerResponse }) {
      const { target, durationMs, payloads } = input(() => ({
        target: readTarget(q.user, q.connection),
        durationMs: readDuration(q.durationMs, this.options.maxWatchMs),
        payloads: readChoice(q.payloads, ['0', '1'], WS_ADMIN_BAD_REQUEST.filter) === '1',
      }));
      if (this.cluster.watchCount >= this.options.maxWatches) throw new HttpException('Too many live traces open; try again later', HttpStatus.TOO_MANY_REQUESTS);
      const raw = 'raw' in res ? res.raw : res;
      const stream = new WsWatchStream(raw, this.options.eventsPerSecond, (reason) => this.metrics.dropped(reason));
      const watchId = await this.cluster.watch(target, payloads, durationMs, stream);
      // The operator went away: the watch ends on every instance.
      raw.once('close', () => {
        stream.closed();
        this.cluster.endWatch(watchId, 'closed');
      });
    }
  }
  return TracingWsAdminController;
}
