import { context as otelContext, SpanKind, trace, type Context, type Link, type Tracer } from '@opentelemetry/api';
import type { WsConnectionState } from '../connection/ws-connection.state.js';
import type { WsFrameSender } from '../dispatch/ws-frame.sender.js';
import { parseTraceparent } from '../model/trace-context.js';
import { WS_LINK_TYPES, WS_SPAN_ATTRIBUTES as A } from '../model/tracing-ws.names.js';
import type { WsFrameMeta } from '../model/ws-protocol.js';
import { MAX_ROOM_TEXT } from '../telemetry/ws-log.fields.js';
import { frameText, type WsHistoryEntry } from './ws-room.history.js';

/**
 * Sends kept broadcasts to one connection, in order, each as its own `process <event>`
 * span (kind CONSUMER) in the recovery's trace (the join message, or the gap request)
 * and linked to the `send <event>` span that first published it (`ws.link.type: publish`),
 * so a trace view leads from a recovered message to its origin. The frame carries the
 * original trace id and `meta.recovered: true`. Returns how many were sent. Internal.
 */
export function replayEntries(
  tracer: Tracer,
  sender: WsFrameSender,
  state: WsConnectionState,
  room: string,
  epoch: string,
  entries: readonly WsHistoryEntry[],
  propagateToClient: boolean,
  parent: Context,
): number {
  let sent = 0;
  for (const entry of entries) {
    const publisher = parseTraceparent(entry.traceparent);
    const links: Link[] = [];
    if (publisher?.spanId) {
      links.push({ context: { traceId: publisher.traceId, spanId: publisher.spanId, traceFlags: publisher.traceFlags, isRemote: true }, attributes: { [A.linkType]: WS_LINK_TYPES.publish } });
    }
    const span = tracer.startSpan(
      `process ${entry.event}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          [A.messagingSystem]: 'websocket',
          [A.messagingOperationType]: 'process',
          [A.messagingOperationName]: 'process',
          [A.messagingDestinationName]: room.slice(0, MAX_ROOM_TEXT),
          [A.connectionId]: state.context.connectionId,
          [A.historyOffset]: entry.offset,
          [A.historyEpoch]: epoch,
          [A.historyRecovered]: true,
        },
        links,
      },
      parent,
    );
    try {
      const meta: WsFrameMeta = { room, epoch, offset: entry.offset, recovered: true };
      const traceId = publisher?.traceId ?? entry.traceId;
      if (propagateToClient && traceId) meta.traceId = traceId;
      const text = frameText(entry.body, meta);
      // Sent inside the span, so that a transport's own telemetry sees it as the active one.
      const ok = otelContext.with(trace.setSpan(parent, span), () => sender.send(state, { kind: 'event', event: entry.event, meta: undefined, text }, entry.event, true));
      if (ok) sent++;
      else break;
    } finally {
      span.end();
    }
  }
  return sent;
}
