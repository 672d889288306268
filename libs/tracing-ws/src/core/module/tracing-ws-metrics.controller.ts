import { Controller, Get, Headers, Res } from '@nestjs/common';
import { register } from 'prom-client';
import { exposeMetrics } from '../telemetry/ws-metrics.exposition.js';

/** The part of an Express response or a Fastify reply the controller uses. */
interface HeaderSink {
  header(name: string, value: string): unknown;
}

/**
 * A `/metrics` controller for `PrometheusModule` that negotiates the exposition format:
 * OpenMetrics, with the `trace_id` exemplars of `ws_message_duration_seconds`, for a
 * scraper that asks for it (Prometheus does), and the usual Prometheus text format,
 * unchanged, for everyone else. It serves prom-client's default registry, as
 * `PrometheusModule`'s own controller does.
 *
 * @example
 * ```ts
 * PrometheusModule.register({ controller: TracingWsMetricsController })
 * ```
 */
@Controller()
export class TracingWsMetricsController {
  @Get()
  async index(@Headers('accept') accept: string | undefined, @Res({ passthrough: true }) response: HeaderSink): Promise<string> {
    const { contentType, body } = await exposeMetrics(register, accept);
    response.header('Content-Type', contentType);
    // Caches must not answer one format's request with the other's.
    response.header('Vary', 'Accept');
    return body;
  }
}
