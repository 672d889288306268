import type { Context, Span } from '@opentelemetry/api';
import { trace } from '@opentelemetry/api';

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
