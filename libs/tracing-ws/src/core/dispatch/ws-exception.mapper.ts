import { HttpException } from '@nestjs/common';
import { WsException } from '@nestjs/websockets';
import { WS_ERROR_CODES as C, type WsErrorCode, type WsErrorData } from '../model/ws-protocol.js';

/** What a client is told about a failure. */
export interface WsMappedError {
  code: WsErrorCode;
  message: string;
  retryable: boolean;
  details?: unknown;
  /** A server fault (logged with its stack at error level), not a client mistake. */
  internal: boolean;
}

const GENERIC_MESSAGE = 'Internal server error';
const KNOWN_CODES = new Set<string>(Object.values(C));
/** Nest's message when a guard returns false. */
const FORBIDDEN_RESOURCE = 'Forbidden resource';

function byStatus(status: number): WsErrorCode {
  if (status === 401) return C.unauthorized;
  if (status === 403) return C.forbidden;
  if (status === 413) return C.payloadTooLarge;
  if (status === 429) return C.rateLimited;
  if (status >= 500) return C.internal;
  return C.badRequest;
}

/**
 * Maps an exception to an error frame: a `WsException` keeps its message (and a
 * `code` it carries), an `HttpException` maps by status (ValidationPipe's 400 to
 * `VALIDATION_FAILED` with the field errors), anything else is `INTERNAL` with a
 * generic message: never a stack or internal text to the client.
 */
export function mapWsException(exception: unknown): WsMappedError {
  if (exception instanceof WsException) {
    const error = exception.getError();
    if (typeof error === 'string') {
      return { code: error === FORBIDDEN_RESOURCE ? C.forbidden : C.badRequest, message: error, retryable: false, internal: false };
    }
    const e = (error ?? {}) as { code?: unknown; message?: unknown; retryable?: unknown; details?: unknown };
    const code = typeof e.code === 'string' && KNOWN_CODES.has(e.code) ? (e.code as WsErrorCode) : C.badRequest;
    return {
      code,
      message: typeof e.message === 'string' ? e.message : exception.message,
      retryable: e.retryable === true,
      ...(e.details !== undefined ? { details: e.details } : {}),
      internal: code === C.internal,
    };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const code = byStatus(status);
    if (code === C.internal) return { code, message: GENERIC_MESSAGE, retryable: status === 503, internal: true };
    const response = exception.getResponse() as { message?: unknown } | string;
    const fieldErrors = typeof response === 'object' && Array.isArray(response.message) ? response.message : undefined;
    if (status === 400 && fieldErrors) {
      return { code: C.validationFailed, message: 'Validation failed', retryable: false, details: fieldErrors, internal: false };
    }
    return { code, message: exception.message, retryable: code === C.rateLimited, internal: false };
  }
  return { code: C.internal, message: GENERIC_MESSAGE, retryable: false, internal: true };
}

/** The `data` of the error frame (or acknowledgement, or `exception` event) that answers `error`. */
export function errorData(error: WsMappedError, traceId: string): WsErrorData {
  const data: WsErrorData = { code: error.code, message: error.message, traceId, retryable: error.retryable };
  if (error.details !== undefined) data.details = error.details;
  return data;
}
