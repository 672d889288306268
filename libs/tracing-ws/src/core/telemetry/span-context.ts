import type { Context, Link, Span } from '@opentelemetry/api';
import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import type { WsTraceContext } from '../model/trace-context.js';

/**
 * The key under which `@opentelemetry/api` keeps the active span in a Context:
 * `createContextKey` is `Symbol.for(description)`, shared by every API version
 * so that contexts interoperate.
 */
const SPAN_KEY = Symbol.for('OpenTelemetry Context Key SPAN');

/**
 * `trace.setSpan(parent, span)` without its cost on the hot path: the API's
 * context copies its whole Map and builds three closures per call, once per
 * message. This one answers the span key itself and defers to `parent` for
 * everything else; setting or deleting a key (rare inside a handler) builds a
 * regular context then.
 */
export class MessageSpanContext implements Context {
  constructor(
    private readonly parent: Context,
    private readonly span: Span,
  ) {}

  getValue(key: symbol): unknown {
    return key === SPAN_KEY ? this.span : this.parent.getValue(key);
  }

  setValue(key: symbol, value: unknown): Context {
    return trace.setSpan(this.parent, this.span).setValue(key, value);
  }

  deleteValue(key: symbol): Context {
    return trace.setSpan(this.parent, this.span).deleteValue(key);
  }
}

/**
 * Where a delivery on another instance starts its `process <event>` span: a child
 * of the publisher's span, and linked to it (a backend that drops remote parents
 * still shows the link). Without a publisher span, a new root with no link.
 */
export function publisherContext(publisher: WsTraceContext | undefined): { readonly parent: Context; readonly links: Link[] } {
  if (!publisher?.spanId) return { parent: ROOT_CONTEXT, links: [] };
  const spanContext = { traceId: publisher.traceId, spanId: publisher.spanId, traceFlags: publisher.traceFlags, isRemote: true };
  return { parent: trace.setSpanContext(ROOT_CONTEXT, spanContext), links: [{ context: spanContext }] };
}
