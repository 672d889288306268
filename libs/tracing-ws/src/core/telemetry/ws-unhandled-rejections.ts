import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { ClsService } from 'nestjs-cls';
import type { WsConnectionContext, WsMessageContext } from '../model/ws-connection.context.js';
import { WS_LOG_FIELDS as F, WS_LOG_MESSAGES } from '../model/tracing-ws.names.js';
import { connectionLogFields } from './ws-log.mixin.js';
import { WsLogger } from './ws.logger.js';
import { WS_CONNECTION_CONTEXT, WS_MESSAGE_CONTEXT } from '../model/tracing-ws.constants.js';
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
    const connection = this.cls.get(WS_CONNECTION_CONTEXT) as WsConnectionContext | undefined;
    if (!connection) {
      // Not ours: keep Node's behaviour when no one else listens.
      if (process.listenerCount('unhandledRejection') === 1) throw reason;
      return;
    }
    const message = this.cls.get(WS_MESSAGE_CONTEXT) as WsMessageContext | undefined;
    this.log.logger.error(
      {
        ...connectionLogFields(connection),
        [F.traceId]: message?.traceId ?? connection.traceId,
        ...(message ? { [F.spanId]: message.spanId, [F.event]: message.event } : {}),
        [F.error]: reason,
      },
      WS_LOG_MESSAGES.unhandledRejection,
    );
  }
}
