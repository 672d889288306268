import { applyDecorators, UseFilters } from '@nestjs/common';
import { TracingWsExceptionFilter } from './tracing-ws-exception.filter.js';

/**
 * Marks a gateway as traced: exceptions of its handlers, guards and pipes
 * become error frames with a code and the trace id (instead of Nest's generic
 * `exception` frame), and fail the message span. Spans, CLS context, logs and
 * metrics come from {@link TracingWsAdapter} for every gateway it serves.
 *
 * @example
 * @TracedGateway()
 * @WebSocketGateway({ path: '/chat' })
 * export class ChatGateway {}
 */
export function TracedGateway(): ClassDecorator {
  return applyDecorators(UseFilters(TracingWsExceptionFilter));
}
