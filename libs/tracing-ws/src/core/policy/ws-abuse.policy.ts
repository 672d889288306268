import { Inject, Injectable } from '@nestjs/common';
import { WS_EVENT_LABELS, WS_LOG_FIELDS as F, WS_LOG_MESSAGES } from '../model/tracing-ws.names.js';
import { RESOLVED_OPTIONS } from '../model/tracing-ws.tokens.js';
import { WS_CLOSE_CODES, WS_ERROR_CODES } from '../model/ws-protocol.js';
import { closeConnection } from '../connection/ws-connection.close.js';
import type { WsConnectionState } from '../connection/ws-connection.state.js';
import type { ResolvedTracingWsOptions } from '../options/tracing-ws.options.js';
import { connectionLine } from '../telemetry/ws-log.fields.js';
import { WsLogger } from '../telemetry/ws.logger.js';

/** Why a connection was closed for abuse: the `reason` log field. */
type AbuseReason = 'invalid_frames' | 'rate_limit';

/**
 * Clients that misbehave: frames over the rate limit (closed with 4429 after
 * `rateLimit.closeAfterRefused` in a row) and malformed or unknown frames
 * (closed with 4400 past `invalidFrames.max` per window). Decides and closes;
 * the dispatcher answers each refused frame with its error frame.
 */
@Injectable()
export class WsAbusePolicy {
  constructor(
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedTracingWsOptions,
    private readonly log: WsLogger,
  ) {}

  /** Takes a rate-limit token for one frame; false when the frame must be refused. */
  admit(state: WsConnectionState): boolean {
    if (state.bucket && !state.bucket.take()) return false;
    state.refusedInARow = 0;
    return true;
  }

  /** Counts a frame refused by the rate limit; true when the connection was closed for it. */
  rateLimited(state: WsConnectionState): boolean {
    state.metrics.rateLimited.inc();
    state.metrics.event(WS_EVENT_LABELS.error).error(WS_ERROR_CODES.rateLimited);
    if (++state.refusedInARow === 1) {
      const logger = this.log.logger;
      if (logger.isLevelEnabled('warn')) logger.warn(connectionLine(state.context), WS_LOG_MESSAGES.rateLimited);
    }
    const { closeAfterRefused } = this.options.rateLimit;
    if (closeAfterRefused > 0 && state.refusedInARow >= closeAfterRefused) {
      this.close(state, WS_CLOSE_CODES.rateLimited, 'Rate limit exceeded', 'rate_limit');
      return true;
    }
    return false;
  }

  /** Counts a malformed or unknown frame (already answered); closes with 4400 past the window's allowance. */
  invalidFrame(state: WsConnectionState): void {
    const { max, windowMs } = this.options.invalidFrames;
    if (max === 0) return;
    const now = performance.now();
    if (now - state.invalidWindowStart > windowMs) {
      state.invalidWindowStart = now;
      state.invalidCount = 0;
    }
    if (++state.invalidCount > max) this.close(state, WS_CLOSE_CODES.badRequest, 'Too many invalid frames', 'invalid_frames');
  }

  private close(state: WsConnectionState, code: number, reason: string, why: AbuseReason): void {
    if (!state.transport.isOpen) return;
    const logger = this.log.logger;
    if (logger.isLevelEnabled('warn')) {
      const fields = connectionLine(state.context);
      fields[F.code] = code;
      fields[F.reason] = why;
      logger.warn(fields, WS_LOG_MESSAGES.closedForAbuse);
    }
    // An abuser's frames are not parsed any more, and it does not linger for ws's 30 s close timeout.
    closeConnection(state, code, reason, 'policy', { stopReading: true });
  }
}
