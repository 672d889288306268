import { Inject, Injectable, Optional, type OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { getOrCreateMetric } from '@willsoto/nestjs-prometheus';
import { STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Counter } from 'prom-client';
import { HTTP_METRIC_NAMES, WS_LOG_FIELDS as F, WS_LOG_MESSAGES, WS_METRIC_LABELS as L } from '../model/tracing-ws.names.js';
import { RESOLVED_OPTIONS } from '../model/tracing-ws.tokens.js';
import type { ResolvedTracingWsOptions } from '../options/tracing-ws.options.js';
import { WsLogger } from './ws.logger.js';

/** Why Node's HTTP parser gave up on a client, as the `reason` label: a bounded set. */
type ClientErrorReason = 'timeout' | 'headers_too_large' | 'bad_request' | 'reset';

function classify(code: string | undefined): { reason: ClientErrorReason; status: number | undefined } {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return { reason: 'timeout', status: 408 };
  if (code === 'HPE_HEADER_OVERFLOW') return { reason: 'headers_too_large', status: 431 };
  if (code === 'ECONNRESET') return { reason: 'reset', status: undefined };
  return { reason: 'bad_request', status: 400 };
}

/**
 * Counts the requests Node's HTTP server refuses before any handler or upgrade
 * sees them: slow or half-sent headers (408, slowloris), oversized headers (431),
 * unparseable requests (400), in `http_client_errors_total{reason}`, with a debug
 * line. A `clientError` listener takes over Node's own answer, so this one writes
 * the same status Node would, then closes the socket.
 */
@Injectable()
export class HttpClientErrors implements OnApplicationBootstrap {
  private readonly counter: Counter<string>;

  constructor(
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedTracingWsOptions,
    private readonly log: WsLogger,
    @Optional() private readonly adapterHost?: HttpAdapterHost,
  ) {
    this.counter = getOrCreateMetric('Counter', {
      name: HTTP_METRIC_NAMES.clientErrors,
      help: 'HTTP requests the server refused before any handler saw them, by reason (timeout, headers_too_large, bad_request, reset).',
      labelNames: [L.reason],
    }) as Counter<string>;
  }

  onApplicationBootstrap(): void {
    if (!this.options.httpMetrics) return;
    const server = this.adapterHost?.httpAdapter?.getHttpServer?.() as Server | undefined;
    if (!server || typeof server.on !== 'function') return;
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => this.refuse(err, socket));
  }

  private refuse(err: NodeJS.ErrnoException, socket: Duplex): void {
    const { reason, status } = classify(err.code);
    this.counter.labels(reason).inc();
    const logger = this.log.logger;
    if (logger.isLevelEnabled('debug')) logger.debug({ [F.reason]: reason, [F.status]: status, [F.errorCode]: err.code }, WS_LOG_MESSAGES.httpClientError);
    if (status !== undefined && socket.writable) {
      socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    } else {
      socket.destroy();
    }
  }
}
