import { Inject, Injectable } from '@nestjs/common';
import { getOrCreateMetric } from '@willsoto/nestjs-prometheus';
import type { Counter } from 'prom-client';
import type { WsConnectionState } from '../connection/ws-connection.state.js';
import { WS_LOG_FIELDS as F, WS_LOG_MESSAGES, WS_METRIC_LABELS as L, WS_METRIC_NAMES as N } from '../model/tracing-ws.names.js';
import { RESOLVED_OPTIONS } from '../model/tracing-ws.tokens.js';
import { WS_CLOSE_CODE_LABELS } from '../model/ws-protocol.js';
import type { ResolvedTracingWsOptions } from '../options/tracing-ws.options.js';
import { connectionLine, type WsLogFields } from '../telemetry/ws-log.fields.js';
import { WsLogger } from '../telemetry/ws.logger.js';

/** Largest report frame: a few numbers and at most {@link MAX_CODES} close codes fit many times over. */
export const MAX_REPORT_BYTES = 1024;
/** Close codes of failed attempts kept in a report (the client sends the last ones). */
const MAX_CODES = 20;
/** The fields a report may have, and nothing else. */
const FIELDS = new Set(['offlineMs', 'attempts', 'closeCodes', 'lastRttMs', 'lastErrorCode']);
/** A client's error code: upper-case letters, digits and `_`, as the library's codes are. */
const ERROR_CODE = /^[A-Z0-9_]{1,40}$/;
const KNOWN_CLOSE_CODES = new Set(WS_CLOSE_CODE_LABELS);

const isCount = (v: unknown, max: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max;
const isCloseCode = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1000 && v <= 4999;

/**
 * A client's report after an outage, as the library logs it: only bounded numbers
 * and a code of a fixed charset (README, "What the client saw"). Undefined for
 * anything else: a report of the wrong shape, too large, with fields of its own.
 */
export function readClientReport(data: unknown, size: number): WsLogFields | undefined {
  if (size > MAX_REPORT_BYTES || typeof data !== 'object' || data === null || Array.isArray(data)) return undefined;
  const keys = Object.keys(data);
  if (keys.length > FIELDS.size || !keys.every((k) => FIELDS.has(k))) return undefined;
  const { offlineMs, attempts, closeCodes, lastRttMs, lastErrorCode } = data as Record<string, unknown>;
  if (!isCount(offlineMs, 7 * 24 * 3600 * 1000) || !isCount(attempts, 1_000_000)) return undefined;
  if (!Array.isArray(closeCodes) || closeCodes.length > MAX_CODES || !closeCodes.every(isCloseCode)) return undefined;
  if (lastRttMs !== undefined && !isCount(lastRttMs, 600_000)) return undefined;
  if (lastErrorCode !== undefined && (typeof lastErrorCode !== 'string' || !ERROR_CODE.test(lastErrorCode))) return undefined;
  return {
    [F.offlineMs]: offlineMs,
    [F.failedAttempts]: attempts,
    [F.closeCodes]: [...closeCodes],
    ...(lastRttMs !== undefined ? { [F.lastRttMs]: lastRttMs } : {}),
    ...(lastErrorCode !== undefined ? { [F.lastErrorCode]: lastErrorCode } : {}),
  };
}

/**
 * Receives the reports clients send after they connect again: one per connection,
 * logged (`ws.client_report`, with the session's trace id) and counted
 * (`ws_client_reports_total{path,transport,code}`, the last close code or `other`:
 * never a client string). A refused report is logged at debug, without its content.
 */
@Injectable()
export class WsClientReports {
  private readonly counter: Counter<string>;
  private readonly reported = new WeakSet<WsConnectionState>();

  constructor(
    @Inject(RESOLVED_OPTIONS) options: ResolvedTracingWsOptions,
    private readonly log: WsLogger,
  ) {
    this.counter = getOrCreateMetric('Counter', {
      name: `${options.metrics.prefix}${N.clientReports}`,
      help: 'Reports of clients that connected again after failing to, by the close code of their last failed attempt.',
      labelNames: [L.path, L.transport, L.code],
    }) as Counter<string>;
  }

  /** The report's fields once accepted (logged and counted); undefined when it is refused. */
  receive(state: WsConnectionState, data: unknown, size: number): WsLogFields | undefined {
    const report = this.reported.has(state) ? undefined : readClientReport(data, size);
    const logger = this.log.logger;
    if (report === undefined) {
      if (logger.isLevelEnabled('debug')) logger.debug(connectionLine(state.context), WS_LOG_MESSAGES.clientReportRefused);
      return undefined;
    }
    this.reported.add(state);
    const codes = report[F.closeCodes] as number[];
    const last = codes[codes.length - 1];
    const label = last === undefined ? 'none' : KNOWN_CLOSE_CODES.has(last) ? String(last) : 'other';
    this.counter.labels(state.context.path, state.context.transport, label).inc();
    if (logger.isLevelEnabled('info')) logger.info(Object.assign(connectionLine(state.context), report), WS_LOG_MESSAGES.clientReport);
    return report;
  }
}
