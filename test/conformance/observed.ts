import { afterAll } from '@jest/globals';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { logs } from '../support/app.js';
import { TestTelemetry } from '../support/otel.js';
import { waitFor } from '../support/wait.js';
import type { HarnessLogs } from './harness.js';

/**
 * What every harness observes the same way, whatever the transport: the pino
 * lines of the app (captured by test/support/app.ts) and the spans of the
 * real OpenTelemetry SDK, exporting to memory. Jest loads modules once per
 * test file, so this is one SDK per file, shut down after the file's tests.
 */
const telemetry = new TestTelemetry().start();
afterAll(() => telemetry.shutdown());

export function finishedSpans(): readonly ReadableSpan[] {
  return telemetry.spans();
}

export function waitForSpan(predicate: (span: ReadableSpan) => boolean, timeoutMs = 5000): Promise<ReadableSpan> {
  return telemetry.waitForSpan(predicate, timeoutMs);
}

/** The lines captured from now on (the capture is shared by every app of the file). */
export function logsFromNow(): HarnessLogs {
  const from = logs.lines.length;
  const view: HarnessLogs = {
    get lines() {
      return logs.lines.slice(from);
    },
    get raw() {
      return logs.raw.slice(from);
    },
    find: (match) => view.lines.filter((line) => Object.entries(match).every(([k, v]) => line[k] === v)),
    waitFor: (match, timeoutMs = 5000) => waitFor(() => view.find(match)[0], timeoutMs, `log line ${JSON.stringify(match)}`),
  };
  return view;
}
