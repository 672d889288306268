import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import { getOrCreateMetric } from '@willsoto/nestjs-prometheus';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Histogram } from 'prom-client';
import { ADMIN_REQUEST, RESOLVED_OPTIONS } from '../model/tracing-ws.tokens.js';
import type { ResolvedTracingWsOptions } from '../options/tracing-ws.options.js';
import { HTTP_METRIC_NAMES, WS_METRIC_LABELS as L } from '../model/tracing-ws.names.js';

type RoutedRequest = IncomingMessage & { route?: { path?: unknown }; baseUrl?: string; originalUrl?: string; [ADMIN_REQUEST]?: boolean };

/** Label value for requests no route matched: the raw URL never becomes a label. */
const UNMATCHED = 'unmatched';

/**
 * Records `http_request_duration_seconds{method,route,status}` for every HTTP
 * request, labelled with the route template (`/rooms/:room/announce`) that
 * Express matched, never the raw URL.
 */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  private readonly histogram: Histogram<string>;

  constructor(@Inject(RESOLVED_OPTIONS) options: ResolvedTracingWsOptions) {
    this.histogram = getOrCreateMetric('Histogram', {
      name: HTTP_METRIC_NAMES.requestDuration,
      help: 'HTTP request duration, by method, route template and status.',
      labelNames: [L.method, L.route, L.status],
      buckets: options.metrics.durationBuckets,
    }) as Histogram<string>;
  }

  use(req: RoutedRequest, res: ServerResponse, next: () => void): void {
    const started = performance.now();
    // The route this middleware is mounted on (a catch-all) is not the request's route.
    const mountRoute = req.route;
    res.once('finish', () => {
      // The admin surface's routes (a live trace stays open for minutes) would skew the latency alerts.
      if (req[ADMIN_REQUEST]) return;
      const route = req.route !== mountRoute ? req.route : undefined;
      const template = typeof route?.path === 'string' ? `${req.baseUrl ?? ''}${route.path}` : UNMATCHED;
      const method = /^[A-Z]{3,7}$/.test(req.method ?? '') ? req.method! : 'OTHER';
      this.histogram.labels(method, template, String(res.statusCode)).observe((performance.now() - started) / 1000);
    });
    next();
  }
}
