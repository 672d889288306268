import { Catch, Injectable, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { WsMessageDispatcher } from './ws-message.dispatcher.js';

/**
 * Turns any exception of a gateway handler, guard or pipe into an error frame
 * (`{"event":"error","data":{"code","message","traceId","retryable"}}`), marks
 * the message span as failed, counts it and logs it with its stack; the
 * connection stays open. Applied by {@link TracedGateway}.
 */
@Catch()
@Injectable()
export class TracingWsExceptionFilter implements ExceptionFilter {
  constructor(private readonly dispatcher: WsMessageDispatcher) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    this.dispatcher.handleException(exception, host.switchToWs().getClient(), host.getArgs());
  }
}
