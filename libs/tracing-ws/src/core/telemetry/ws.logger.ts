import { Injectable, Optional } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { pino, type Logger } from 'pino';

/**
 * The pino logger the library writes with: nestjs-pino's (the request logger
 * inside an HTTP request, the root logger elsewhere) when `LoggerModule` is
 * imported, else a plain pino logger on stdout.
 */
@Injectable()
export class WsLogger {
  private fallback: Logger | undefined;

  constructor(@Optional() private readonly pinoLogger?: PinoLogger) {}

  /** The logger in effect at this point of the call tree. */
  get logger(): Logger {
    return this.pinoLogger?.logger ?? (this.fallback ??= pino({ name: 'tracing-ws' }));
  }
}
