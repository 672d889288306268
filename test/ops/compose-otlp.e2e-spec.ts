import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

// docker compose cannot run here: the compose file is checked as data. The guides
// tell people to export traces to http://localhost:4318 from a sample run outside
// Docker; something in the stack must publish that port, and it should be Jaeger v2.

const ROOT = join(import.meta.dirname, '..', '..');
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

interface Service {
  image?: string;
  environment?: Record<string, string>;
  ports?: string[];
}
const services = (parse(read('docker-compose.yml')) as { services: Record<string, Service> }).services;

/** Host port → { service, container port } of every published TCP port. */
const published = new Map(
  Object.entries(services).flatMap(([name, service]) =>
    (service.ports ?? []).map((p) => {
      const m = /^(?:[\d.]+:)?(\d+):(\d+)(?:\/tcp)?$/.exec(p);
      if (!m) throw new Error(`port mapping "${p}" of ${name} is not host:container`);
      return [Number(m[1]), { service: name, container: Number(m[2]) }] as const;
    }),
  ),
);

/** Every OTLP endpoint on localhost that the docs tell people to export to. */
function documentedLocalEndpoints(): Array<{ doc: string; url: URL }> {
  return ['README.md', 'docs/operations.md'].flatMap((doc) =>
    [...read(doc).matchAll(/OTEL_EXPORTER_OTLP_ENDPOINT=(http:\/\/localhost:\d+)/g)].map((m) => ({ doc, url: new URL(m[1]!) })),
  );
}

describe('the compose stack as an OTLP receiver for a sample run outside Docker', () => {
  it('runs Jaeger v2 (jaegertracing/jaeger:2.x), not the v1 all-in-one image or its settings', () => {
    const jaeger = services.jaeger!;
    expect(jaeger.image).toMatch(/^jaegertracing\/jaeger:2\.\d+\.\d+$/);
    expect(Object.keys(jaeger.environment ?? {}).filter((k) => /^(COLLECTOR_|SPAN_STORAGE_TYPE|QUERY_)/.test(k))).toEqual([]);
    // The receivers must listen beyond the container's loopback for published ports to work.
    expect(jaeger.environment?.JAEGER_LISTEN_HOST ?? '0.0.0.0').toBe('0.0.0.0');
  });

  it('publishes Jaeger\'s OTLP receivers (4318 HTTP, 4317 gRPC) and its UI on the same host ports', () => {
    for (const port of [4318, 4317, 16686]) expect(published.get(port)).toEqual({ service: 'jaeger', container: port });
  });

  it('has a receiver for every localhost OTLP endpoint the README and the operations guide give', () => {
    const endpoints = documentedLocalEndpoints();
    expect(endpoints.map((e) => e.doc)).toEqual(expect.arrayContaining(['README.md', 'docs/operations.md']));
    for (const { doc, url } of endpoints) expect([doc, url.port, published.get(Number(url.port))?.service]).toEqual([doc, '4318', 'jaeger']);
  });

  it('tells how to start only Jaeger next to the local-run command', () => {
    const guide = read('docs/operations.md');
    const command = guide.indexOf('OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 npm start');
    expect(command).toBeGreaterThan(0);
    const block = guide.slice(guide.lastIndexOf('```sh', command), command);
    expect(block).toContain('docker compose up -d jaeger');
  });
});
