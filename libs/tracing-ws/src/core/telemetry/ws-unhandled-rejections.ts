import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { ClsService } from 'nestjs-cls';
import { WS_LOG_FIELDS as F, WS_LOG_MESSAGES } from '../model/tracing-ws.names.js';
import { connectionLine, messageLine } from './ws-log.fields.js';
import { WsLogger } from './ws.logger.js';
import { WS_CONNECTION_CONTEXT, WS_MESSAGE_CONTEXT } from '../model/tracing-ws.constants.js';
import { currentWsStore } from '../model/ws-cls.store.js';
import { RESOLVED_OPTIONS } from '../model/tracing-ws.tokens.js';
import type { ResolvedTracingWsOptions } from '../options/tracing-ws.options.js';

/**
 * Logs a promise rejection that nothing handled when it happened inside a
 * connection (a handler's floating promise), with that connection's and
 * message's ids: Node runs `unhandledRejection` in the rejected promise's async
 * context, so the CLS store is the handler's. A rejection outside any
 * connection is left to Node's default (the process fails) unless the app has
 * its own listener. Active while the module is (option `logUnhandledRejections`).
 */
@Injectable()
export class WsUnhandledRejections implements OnModuleInit, OnModuleDestroy {
  private readonly listener = (reason: unknown) => this.onRejection(reason);

  constructor(
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedTracingWsOptions,
    private readonly cls: ClsService,
    private readonly log: WsLogger,
  ) {}

  onModuleInit(): void {
    if (this.options.logUnhandledRejections) process.on('unhandledRejection', this.listener);
  }

  onModuleDestroy(): void {
    process.off('unhandledRejection', this.listener);
  }

  private onRejection(reason: unknown): void {
    const store = currentWsStore(this.cls);
    const connection = store?.[WS_CONNECTION_CONTEXT];
    if (!connection) {
      // Not ours: keep Node's behaviour when no one else listens.
      if (process.listenerCount('unhandledRejection') === 1) throw reason;
      return;
    }
    const message = store[WS_MESSAGE_CONTEXT];
    const fields = message ? messageLine(connection, message) : connectionLine(connection);
    fields[F.error] = reason;
    this.log.logger.error(fields, WS_LOG_MESSAGES.unhandledRejection);
  }
}
