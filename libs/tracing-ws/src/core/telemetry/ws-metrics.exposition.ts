import { Registry, type Metric, type OpenMetricsContentType } from 'prom-client';

/** A rendered scrape: the body and the `Content-Type` it must be served with. */
export interface MetricsExposition {
  readonly contentType: string;
  readonly body: string;
}

const OPENMETRICS = 'application/openmetrics-text';
/** The OpenMetrics versions prom-client's rendering satisfies (Prometheus asks for both). */
const OPENMETRICS_VERSIONS = new Set(['1.0.0', '0.0.1']);

/**
 * Whether a scraper's `Accept` header prefers OpenMetrics (which can carry exemplars) to
 * the Prometheus text format: an `application/openmetrics-text` range (no version, or one
 * prom-client renders) with a q-value above 0 and at least that of `text/plain` and of
 * the wildcards. Prometheus sends `application/openmetrics-text;version=1.0.0,…,text/plain;
 * version=0.0.4;q=0.5,…`; curl, browsers and most tools send no such range.
 */
export function prefersOpenMetrics(accept: string | undefined): boolean {
  if (!accept) return false;
  let openMetrics = 0;
  let text = 0;
  for (const range of accept.split(',')) {
    const [type = '', ...params] = range.split(';').map((p) => p.trim().toLowerCase());
    let q = 1;
    let version: string | undefined;
    for (const param of params) {
      const [key, value = ''] = param.split('=').map((p) => p.trim());
      if (key === 'q') q = Number(value);
      else if (key === 'version') version = value;
    }
    if (!(q >= 0 && q <= 1)) continue; // NaN or out of range: ignore the range
    if (type === OPENMETRICS && (version === undefined || OPENMETRICS_VERSIONS.has(version))) openMetrics = Math.max(openMetrics, q);
    else if (type === 'text/plain' || type === 'text/*' || type === '*/*') text = Math.max(text, q);
  }
  return openMetrics > 0 && openMetrics >= text;
}

/**
 * Renders `registry` in the format `accept` prefers: OpenMetrics, with the exemplars of
 * histograms made able to carry them, or the Prometheus text format, exactly what
 * `registry.metrics()` gives.
 *
 * prom-client renders OpenMetrics only from a registry whose content type says so, and
 * doing that renames every counter it holds for good (`foo_total` becomes `foo`, the name
 * of the family in OpenMetrics), so switching the shared registry per request would strip
 * `_total` from later Prometheus-format scrapes, and race with a concurrent one. Instead,
 * each OpenMetrics scrape renders a throwaway OpenMetrics registry of read-only views of
 * the shared metrics: nothing shared is changed.
 */
export async function exposeMetrics(registry: Registry, accept: string | undefined): Promise<MetricsExposition> {
  if (!prefersOpenMetrics(accept)) return { contentType: registry.contentType, body: await registry.metrics() };
  const openMetrics = new Registry<OpenMetricsContentType>();
  openMetrics.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  openMetrics.setDefaultLabels(defaultLabelsOf(registry));
  for (const metric of registry.getMetricsAsArray()) openMetrics.registerMetric(openMetricsView(metric as unknown as RenderableMetric));
  return { contentType: openMetrics.contentType, body: await openMetrics.metrics() };
}

/**
 * What prom-client's renderer reads of a metric: its name, help, type (`'counter'`, … at
 * run time, whatever prom-client's typings say), and `get`, or `getForPromString` where
 * it has one.
 */
interface RenderableMetric {
  name: string;
  help: string;
  type: string;
  aggregator: string;
  get(): Promise<{ name: string }>;
  getForPromString?(): Promise<{ name: string }>;
}

/** A view of `metric` under its OpenMetrics family name (a counter's without `_total`). */
function openMetricsView(metric: RenderableMetric): Metric {
  const name = metric.type === 'counter' ? metric.name.replace(/_total$/, '') : metric.name;
  const rename = async (data: Promise<{ name: string }>): Promise<{ name: string }> => ({ ...(await data), name });
  const view: RenderableMetric = {
    name,
    help: metric.help,
    type: metric.type,
    aggregator: metric.aggregator,
    get: () => rename(metric.get()),
    ...(metric.getForPromString ? { getForPromString: () => rename(metric.getForPromString!()) } : {}),
  };
  return view as unknown as Metric;
}

/**
 * The labels `registry.setDefaultLabels()` was given (PrometheusModule's `defaultLabels`).
 * prom-client has no getter for them; its field is read, and a spec fails if it moves.
 */
function defaultLabelsOf(registry: Registry): object {
  return (registry as unknown as { _defaultLabels?: object })._defaultLabels ?? {};
}
