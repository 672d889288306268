import { describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../../apps/sample/src/config.js';
import { SAMPLE_ENTRY } from '../support/sample-process.js';

/** The exemplar label Grafana follows to a trace (WS_EXEMPLAR_LABELS.traceId of the library). */
const WS_EXEMPLAR_TRACE_ID = 'trace_id';

// docker compose cannot run on CI: everything that can be checked without it is checked here.
const ROOT = join(import.meta.dirname, '..', '..');
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: string[] | Record<string, { condition: string }>;
  command?: string[];
}
const compose = parse(read('docker-compose.yml')) as { services: Record<string, Service> };
const services = compose.services;
const serviceNames = Object.keys(services);
const dockerfile = read('Dockerfile');
const prometheus = parse(read('deploy/prometheus/prometheus.yml')) as {
  rule_files: string[];
  scrape_configs: Array<{ job_name: string; metrics_path: string; static_configs: Array<{ targets: string[] }> }>;
  alerting: { alertmanagers: Array<{ static_configs: Array<{ targets: string[] }> }> };
};
const alertmanager = parse(read('deploy/alertmanager/alertmanager.yml')) as { templates: string[]; receivers: Array<{ slack_configs?: Array<{ api_url_file?: string }> }> };
const datasources = parse(read('deploy/grafana/provisioning/datasources/datasources.yml')) as {
  datasources: Array<{ uid: string; type: string; url: string; jsonData?: { exemplarTraceIdDestinations?: Array<{ name: string; datasourceUid: string }> } }>;
};
const dashboardProviders = parse(read('deploy/grafana/provisioning/dashboards/dashboards.yml')) as { providers: Array<{ options: { path: string } }> };

/** `host:container` port mappings of a service, as numbers. */
const portsOf = (service: Service): Array<{ host: number; container: number }> =>
  (service.ports ?? []).map((p) => {
    const m = /^(?:[\d.]+:)?(\d+):(\d+)(?:\/tcp)?$/.exec(p);
    if (!m) throw new Error(`port mapping "${p}" is not host:container`);
    return { host: Number(m[1]), container: Number(m[2]) };
  });

/** Host-path volumes as { source (repo-relative), target }. */
const volumesOf = (service: Service): Array<{ source: string; target: string }> =>
  (service.volumes ?? []).map((v) => {
    const [source, target] = v.split(':');
    return { source: relative(ROOT, join(ROOT, source!)), target: target! };
  });

/** Where a container path of `service` comes from in the repo, if it is mounted. */
const repoPathOf = (service: Service, containerPath: string): string | undefined => {
  for (const { source, target } of volumesOf(service)) {
    if (containerPath === target || containerPath.startsWith(`${target}/`)) return join(source, containerPath.slice(target.length));
  }
  return undefined;
};

describe('docker-compose.yml and the Dockerfile (validated without Docker)', () => {
  it('runs the sample, Redis, Jaeger (OTLP), Prometheus, Alertmanager and Grafana', () => {
    expect(serviceNames.sort()).toEqual(['alertmanager', 'grafana', 'jaeger', 'prometheus', 'redis', 'sample']);
    expect(services.sample!.build).toEqual({ context: '.', dockerfile: 'Dockerfile' });
  });

  it('pins every image to a version tag, never latest', () => {
    for (const [name, service] of Object.entries(services)) {
      const m = /^([a-z0-9][a-z0-9._/-]*):([\w][\w.-]*)$/.exec(service.image ?? '');
      expect([name, m?.[2]]).toEqual([name, expect.stringMatching(/\d+\.\d+\.\d+/)]);
      expect(m?.[2]).not.toMatch(/latest/);
    }
    const froms = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]);
    expect(froms.length).toBeGreaterThan(0);
    for (const from of froms) expect(from).toMatch(/^node:24\.\d+\.\d+-[a-z]+(-slim)?$/);
  });

  it('builds the sample the way the repo does and runs the entry the tests run', () => {
    expect(dockerfile).toMatch(/^RUN npm ci\b/m);
    expect(dockerfile).toMatch(/^RUN npm run build\b/m);
    const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)![1]!) as string[];
    expect(cmd[0]).toBe('node');
    expect(cmd.at(-1)).toBe(relative(ROOT, SAMPLE_ENTRY));
    for (const m of dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const source of m[1]!.split(/\s+/)) expect([source, existsSync(join(ROOT, source))]).toEqual([source, true]);
    }
    const ignored = read('.dockerignore').split('\n').map((l) => l.trim());
    expect(ignored).toEqual(expect.arrayContaining(['**/node_modules', 'dist', '.git']));
  });

  it('keeps the sample port consistent: config, Dockerfile, compose mapping and Prometheus target', () => {
    const sample = services.sample!;
    const config = loadConfig(sample.environment ?? {});
    expect(config.host).toBe('0.0.0.0');
    expect(/^EXPOSE (\d+)$/m.exec(dockerfile)?.[1]).toBe(String(config.port));
    expect(/PORT=(\d+)/.exec(dockerfile)?.[1]).toBe(String(config.port));
    expect(portsOf(sample).map((p) => p.container)).toEqual([config.port]);
    const job = prometheus.scrape_configs.find((c) => c.job_name === 'sample')!;
    expect(job.metrics_path).toBe('/metrics');
    expect(job.static_configs.flatMap((c) => c.targets)).toEqual([`sample:${config.port}`]);
    // The demo tokens the docs use are the ones compose configures.
    expect([...config.tokens.keys()].sort()).toEqual(['alice-token', 'bob-token']);
  });

  it('points the sample at services that exist, on their ports', () => {
    const env = services.sample!.environment ?? {};
    const otlp = new URL(env.OTEL_EXPORTER_OTLP_ENDPOINT!);
    expect(env.OTEL_TRACES_EXPORTER).toBe('otlp');
    expect(env.OTEL_EXPORTER_OTLP_PROTOCOL).toBe('http/protobuf');
    expect([otlp.hostname, otlp.port]).toEqual(['jaeger', '4318']);
    const redis = new URL(env.REDIS_URL!);
    expect([redis.hostname, redis.port]).toEqual(['redis', '6379']);
    expect(Object.keys(services.sample!.depends_on ?? {}).sort()).toEqual(['jaeger', 'redis']);
  });

  it('publishes no host port twice', () => {
    const hostPorts = Object.values(services).flatMap((s) => portsOf(s).map((p) => p.host));
    expect(new Set(hostPorts).size).toBe(hostPorts.length);
  });

  it('mounts the Prometheus config and its rules where Prometheus reads them', () => {
    const service = services.prometheus!;
    const config = repoPathOf(service, '/etc/prometheus/prometheus.yml');
    expect(config).toBe(join('deploy', 'prometheus', 'prometheus.yml'));
    for (const rules of prometheus.rule_files) expect(existsSync(join(ROOT, 'deploy', 'prometheus', rules))).toBe(true);
    expect(portsOf(service)).toEqual([{ host: 9090, container: 9090 }]);
  });

  it('sends Prometheus alerts to the Alertmanager service, which reads the shipped config', () => {
    const targets = prometheus.alerting.alertmanagers.flatMap((a) => a.static_configs.flatMap((c) => c.targets));
    expect(targets).toEqual(['alertmanager:9093']);
    const service = services.alertmanager!;
    expect(portsOf(service)).toEqual([{ host: 9093, container: 9093 }]);
    expect(Object.values(services.prometheus!.depends_on ?? {})).toContain('alertmanager');
    // The image's default command reads /etc/alertmanager/alertmanager.yml.
    expect(repoPathOf(service, '/etc/alertmanager/alertmanager.yml')).toBe(join('deploy', 'alertmanager', 'alertmanager.yml'));
    for (const template of alertmanager.templates) expect(existsSync(join(ROOT, 'deploy', 'alertmanager', template))).toBe(true);
    // The webhook URL is a secret: read from a file in the mounted folder, never committed.
    const urlFiles = alertmanager.receivers.flatMap((r) => (r.slack_configs ?? []).map((c) => c.api_url_file));
    expect(urlFiles).toEqual(['/etc/alertmanager/team-chat-webhook-url']);
    const urlFile = repoPathOf(service, urlFiles[0]!)!;
    expect(read('deploy/alertmanager/.gitignore').split('\n')).toContain(relative(join('deploy', 'alertmanager'), urlFile));
  });

  it('stores exemplars in Prometheus (a command-line flag) and links them from Grafana to the trace', () => {
    const command = services.prometheus!.command ?? [];
    expect(command).toContain('--enable-feature=exemplar-storage');
    // Overriding the image's command: its config flag must still name the mounted file.
    const configFlag = command.find((f) => f.startsWith('--config.file='));
    expect(repoPathOf(services.prometheus!, configFlag!.slice('--config.file='.length))).toBe(join('deploy', 'prometheus', 'prometheus.yml'));
    expect(command.find((f) => f.startsWith('--storage.tsdb.path='))).toBe('--storage.tsdb.path=/prometheus');
    const prometheusSource = datasources.datasources.find((d) => d.type === 'prometheus')!;
    const destinations = prometheusSource.jsonData?.exemplarTraceIdDestinations ?? [];
    expect(destinations.map((d) => d.name)).toEqual([WS_EXEMPLAR_TRACE_ID]);
    const tracing = datasources.datasources.find((d) => d.uid === destinations[0]!.datasourceUid);
    expect(['jaeger', 'tempo']).toContain(tracing?.type);
    // The latency panels ask Prometheus for the exemplars of ws_message_duration_seconds.
    const dashboard = JSON.parse(read('deploy/grafana/dashboards/tracing-ws.json')) as { panels: Array<{ title: string; targets?: Array<{ expr: string; exemplar?: boolean }> }> };
    const latency = dashboard.panels.flatMap((p) => (p.targets ?? []).filter((t) => t.expr.includes('ws_message_duration_seconds_bucket')).map((t) => [p.title, t.exemplar]));
    expect(latency.length).toBeGreaterThanOrEqual(3);
    for (const [title, exemplar] of latency) expect([title, exemplar]).toEqual([title, true]);
  });

  it('provisions Grafana with the data sources and the dashboard', () => {
    const grafana = services.grafana!;
    for (const file of ['datasources/datasources.yml', 'dashboards/dashboards.yml']) {
      expect(existsSync(join(ROOT, repoPathOf(grafana, `/etc/grafana/provisioning/${file}`)!))).toBe(true);
    }
    const dashboardsDir = repoPathOf(grafana, dashboardProviders.providers[0]!.options.path)!;
    expect(existsSync(join(ROOT, dashboardsDir, 'tracing-ws.json'))).toBe(true);
    expect(repoPathOf(grafana, grafana.environment!.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH!)).toBe(join(dashboardsDir, 'tracing-ws.json'));
    const byType = new Map(datasources.datasources.map((d) => [d.type, new URL(d.url)]));
    expect([byType.get('prometheus')?.hostname, byType.get('prometheus')?.port]).toEqual(['prometheus', '9090']);
    expect([byType.get('jaeger')?.hostname, byType.get('jaeger')?.port]).toEqual(['jaeger', '16686']);
    // The UI; the OTLP ports are published too (issue 14, point 13: compose-otlp.e2e-spec.ts).
    expect(portsOf(services.jaeger!)).toContainEqual({ host: 16686, container: 16686 });
    expect(serviceNames).toEqual(expect.arrayContaining([...byType.values()].map((u) => u.hostname)));
  });

  it('ships a dashboard Grafana can load: unique panel ids, a query per panel, on the Prometheus data source variable', () => {
    const dashboard = JSON.parse(read('deploy/grafana/dashboards/tracing-ws.json')) as {
      uid: string;
      panels: Array<{ id: number; type: string; title: string; datasource?: { uid: string }; targets?: Array<{ expr: string; refId: string }> }>;
    };
    expect(dashboard.uid).toBe('tracing-ws');
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) {
      expect([panel.title, panel.datasource?.uid]).toEqual([panel.title, '${datasource}']);
      expect(panel.targets?.length).toBeGreaterThan(0);
      for (const t of panel.targets!) expect(t.expr.trim()).not.toBe('');
    }
    const titles = dashboard.panels.map((p) => p.title.toLowerCase()).join('\n');
    for (const topic of ['active connections', 'by event', 'p99', 'errors by code', 'rejections by reason', 'heartbeat', 'message size', 'broadcast lag', 'http latency']) {
      expect(titles).toContain(topic);
    }
  });
});
