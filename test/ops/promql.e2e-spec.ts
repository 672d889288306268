import { describe, expect, it } from '@jest/globals';
import { filterFamilies, metricFamilies, metricNamesIn, missingReason } from './promql.js';

// The dashboard and alert checks are only as good as this extraction.
describe('metric names in PromQL', () => {
  it('finds the selected metrics and ignores functions, labels, ranges, strings and variables', () => {
    expect(
      metricNamesIn(
        'histogram_quantile(0.99, sum by (event, le) (rate(ws_message_duration_seconds_bucket{path=~"$path",event!="x_total"}[$__rate_interval])))',
      ),
    ).toEqual(['ws_message_duration_seconds_bucket']);
    expect(
      metricNamesIn('sum by (job) (rate(a_total[5m])) / on (job) group_left(instance) sum without (le) (rate(b_total[1h] offset 5m)) > bool 1e3 and c'),
    ).toEqual(['a_total', 'b_total', 'c']);
    expect(metricNamesIn('label_values(ws_connections_active, path)')).toEqual(['ws_connections_active']);
    expect(metricNamesIn('label_values(path)')).toEqual([]);
    expect(metricNamesIn('ws_connections_active offset 5m < 0.5 * ${x}')).toEqual(['ws_connections_active']);
  });

  it('resolves histogram series to their family and reports what is missing', () => {
    const families = new Map([
      ['ws_message_duration_seconds', 'histogram'],
      ['ws_connections_active', 'gauge'],
    ]);
    expect(missingReason('ws_message_duration_seconds_bucket', families)).toBeUndefined();
    expect(missingReason('ws_message_duration_seconds_count', families)).toBeUndefined();
    expect(missingReason('ws_connections_active', families)).toBeUndefined();
    expect(missingReason('ws_message_duration_seconds', families)).toMatch(/is a histogram/);
    expect(missingReason('ws_connections_active_count', families)).toMatch(/is a gauge/);
    expect(missingReason('ws_broadcast_lag_seconds_bucket', families)).toBe('ws_broadcast_lag_seconds_bucket is not in the scrape');
  });

  it('keeps whole families when filtering an exposition', () => {
    const text = [
      '# HELP a_seconds A.',
      '# TYPE a_seconds histogram',
      'a_seconds_bucket{le="+Inf"} 1',
      'a_seconds_sum 0.1',
      'a_seconds_count 1',
      '# HELP b_total B.',
      '# TYPE b_total counter',
      'b_total 2',
    ].join('\n');
    const kept = filterFamilies(text, (f) => f === 'a_seconds');
    expect([...metricFamilies(kept).keys()]).toEqual(['a_seconds']);
    expect(kept).toContain('a_seconds_count 1');
    expect(kept).not.toContain('b_total');
  });
});
