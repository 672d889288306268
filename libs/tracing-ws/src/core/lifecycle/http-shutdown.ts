import { Inject, Injectable, Optional, type BeforeApplicationShutdown } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Server } from 'node:http';
import { RESOLVED_OPTIONS } from '../model/tracing-ws.tokens.js';
import type { ResolvedTracingWsOptions } from '../options/tracing-ws.options.js';

/**
 * Bounds the HTTP side of a shutdown. Nest's `app.close()` waits for the HTTP
 * server's `close()`, which waits for every connection, and Node stops enforcing
 * the header timeout once `close()` is called: one half-sent request or
 * half-open upgrade kept the process alive until its client gave up. When the
 * shutdown starts, idle keep-alive connections are closed at once; when
 * `shutdown.timeoutMs` has passed, every connection left is closed, so the
 * process exits within the deadline (`shutdown.closeHttpConnections: false` leaves
 * the HTTP server to the application).
 */
@Injectable()
export class WsHttpShutdown implements BeforeApplicationShutdown {
  constructor(
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedTracingWsOptions,
    @Optional() private readonly adapterHost?: HttpAdapterHost,
  ) {}

  beforeApplicationShutdown(): void {
    if (!this.options.shutdown.closeHttpConnections) return;
    const server = this.adapterHost?.httpAdapter?.getHttpServer?.() as Partial<Server> | undefined;
    if (!server || typeof server.closeAllConnections !== 'function') return;
    server.closeIdleConnections?.();
    const timer = setTimeout(() => server.closeAllConnections!(), this.options.shutdown.timeoutMs);
    timer.unref();
    server.once?.('close', () => clearTimeout(timer));
  }
}
