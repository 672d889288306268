import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { findBinary } from '../support/binaries.js';
import { freePort } from '../support/redis-server.js';
import { waitFor } from '../support/wait.js';
import { scaleDuration, scaleRouteTree, scaleRuleFile } from './speed-up.js';

// A real Prometheus and a real Alertmanager (Debian's `prometheus` and
// `prometheus-alertmanager`) run from the shipped deploy/ files, sped up (speed-up.ts),
// on loopback ports, with their data in a directory the caller removes.

const DEPLOY = join(import.meta.dirname, '..', '..', 'deploy');
const PROMETHEUS_DIR = join(DEPLOY, 'prometheus');
const ALERTMANAGER_DIR = join(DEPLOY, 'alertmanager');

export const PROMETHEUS = findBinary('PROMETHEUS', ['prometheus']);
/** Debian names it prometheus-alertmanager; upstream's tarball, alertmanager. */
export const ALERTMANAGER = findBinary('ALERTMANAGER', ['prometheus-alertmanager', 'alertmanager']);
export const ALERTING_INSTALL = 'Debian: apt-get install -y prometheus prometheus-alertmanager, or set PROMETHEUS / ALERTMANAGER';

/** `probe`, called at most every `ms`: for waitFor on something that costs an HTTP request. */
export function paced<T>(probe: () => Promise<T>, ms = 200): () => Promise<T> {
  return async () => {
    await new Promise((r) => setTimeout(r, ms));
    return probe();
  };
}

/** A server binary run as a child process, its output kept for failure messages. */
export class ServiceProcess {
  private output = '';
  private readonly exit: Promise<void>;

  private constructor(
    readonly name: string,
    readonly url: string,
    private readonly child: ChildProcess,
  ) {
    const keep = (chunk: Buffer): void => {
      this.output = (this.output + chunk.toString('utf8')).slice(-20000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    this.exit = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  /** Starts `binary args` and resolves once `url` + `/-/ready` answers 200 (within `timeoutMs`). */
  static async start(name: string, binary: string, args: string[], url: string, timeoutMs = 30000): Promise<ServiceProcess> {
    const service = new ServiceProcess(name, url, spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
    try {
      await waitFor(
        paced(async () => {
          if (!service.running) throw new Error(`${name} exited before it was ready:\n${service.log}`);
          return fetch(`${url}/-/ready`).then((r) => r.ok, () => false);
        }, 100),
        timeoutMs,
        `${name} to be ready at ${url}`,
      );
    } catch (err) {
      await service.stop();
      throw new Error(`${(err as Error).message}\n${name} output:\n${service.log}`);
    }
    return service;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** What the process wrote last (stdout and stderr). */
  get log(): string {
    return this.output;
  }

  /** SIGTERM, then SIGKILL after `timeoutMs`; resolves once it exited. */
  async stop(timeoutMs = 5000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await this.exit;
    clearTimeout(timer);
  }
}

interface PrometheusConfig {
  global: { scrape_interval: string; evaluation_interval: string; scrape_timeout?: string };
  rule_files: string[];
  scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }>;
  alerting: { alertmanagers: Array<{ static_configs: Array<{ targets: string[] }> }> };
}

/**
 * deploy/prometheus/prometheus.yml and its rule files, sped up, written to `dir`:
 * the `sample:<port>` target becomes `sample`, the Alertmanager target `alertmanager`.
 * The scrape timeout (unset, 10 s by default) is the sped-up scrape interval, the
 * longest Prometheus accepts.
 */
export function writePrometheusConfig(dir: string, targets: { sample: string; alertmanager: string }, speedUp: number): string {
  const config = parse(readFileSync(join(PROMETHEUS_DIR, 'prometheus.yml'), 'utf8')) as PrometheusConfig;
  config.global.scrape_interval = scaleDuration(config.global.scrape_interval, speedUp);
  config.global.evaluation_interval = scaleDuration(config.global.evaluation_interval, speedUp);
  config.global.scrape_timeout = config.global.scrape_interval;
  for (const rules of config.rule_files) writeFileSync(join(dir, rules), scaleRuleFile(readFileSync(join(PROMETHEUS_DIR, rules), 'utf8'), speedUp));
  const replace = (list: Array<{ static_configs: Array<{ targets: string[] }> }>, to: Record<string, string>): void => {
    for (const { static_configs } of list) {
      for (const c of static_configs) {
        c.targets = c.targets.map((t) => {
          const host = t.split(':')[0]!;
          if (!to[host]) throw new Error(`prometheus.yml targets ${t}: no running service stands in for "${host}"`);
          return to[host];
        });
      }
    }
  };
  replace(config.scrape_configs, { sample: targets.sample });
  replace(config.alerting.alertmanagers, { alertmanager: targets.alertmanager });
  const path = join(dir, 'prometheus.yml');
  writeFileSync(path, stringify(config));
  return path;
}

interface AlertmanagerConfig {
  templates?: string[];
  route: Parameters<typeof scaleRouteTree>[0];
  receivers: Array<{
    name: string;
    slack_configs?: Array<{ api_url?: string; api_url_file?: string }>;
    webhook_configs?: Array<{ url: string; send_resolved?: boolean }>;
  }>;
}

/**
 * deploy/alertmanager/alertmanager.yml, sped up, written to `dir`: its templates read
 * from deploy/, each receiver's chat webhook pointed at `${receiverUrl}/chat/<receiver>`,
 * and a plain webhook added to each receiver, `${receiverUrl}/webhook/<receiver>`,
 * whose JSON carries the alerts' labels and annotations as such.
 */
export function writeAlertmanagerConfig(dir: string, receiverUrl: string, speedUp: number): string {
  const config = parse(readFileSync(join(ALERTMANAGER_DIR, 'alertmanager.yml'), 'utf8')) as AlertmanagerConfig;
  config.templates = (config.templates ?? []).map((t) => join(ALERTMANAGER_DIR, t));
  scaleRouteTree(config.route, speedUp);
  for (const receiver of config.receivers) {
    for (const slack of receiver.slack_configs ?? []) {
      delete slack.api_url_file;
      slack.api_url = `${receiverUrl}/chat/${receiver.name}`;
    }
    receiver.webhook_configs = [...(receiver.webhook_configs ?? []), { url: `${receiverUrl}/webhook/${receiver.name}`, send_resolved: true }];
  }
  const path = join(dir, 'alertmanager.yml');
  writeFileSync(path, stringify(config));
  return path;
}

/** `binary` on a free loopback port (`args` given its host:port), ready. */
async function startOnFreePort(name: string, binary: string | undefined, args: (address: string) => string[]): Promise<ServiceProcess> {
  if (!binary) throw new Error(`${name} is not installed (${ALERTING_INSTALL})`);
  const address = `127.0.0.1:${await freePort()}`;
  return ServiceProcess.start(name, binary, args(address), `http://${address}`);
}

/**
 * The `--enable-feature` flags docker-compose.yml runs Prometheus with (exemplar storage):
 * the tests' Prometheus is run with them too, so a flag dropped from compose fails a test.
 */
export function composePrometheusFeatures(): string[] {
  const compose = parse(readFileSync(join(DEPLOY, '..', 'docker-compose.yml'), 'utf8')) as { services: Record<string, { command?: string[] }> };
  return (compose.services.prometheus?.command ?? []).filter((flag) => flag.startsWith('--enable-feature='));
}

/** Prometheus on a free loopback port, from the sped-up shipped config and compose's feature flags, its TSDB in `dir`. */
export function startPrometheus(dir: string, targets: { sample: string; alertmanager: string }, speedUp: number): Promise<ServiceProcess> {
  const config = writePrometheusConfig(dir, targets, speedUp);
  return startOnFreePort('prometheus', PROMETHEUS, (address) => [
    `--config.file=${config}`,
    `--storage.tsdb.path=${join(dir, 'prometheus-data')}`,
    `--web.listen-address=${address}`,
    ...composePrometheusFeatures(),
  ]);
}

/** Alertmanager on a free loopback port, from the sped-up shipped config, clustering off, its data in `dir`. */
export function startAlertmanager(dir: string, receiverUrl: string, speedUp: number): Promise<ServiceProcess> {
  const config = writeAlertmanagerConfig(dir, receiverUrl, speedUp);
  return startOnFreePort('alertmanager', ALERTMANAGER, (address) => [
    `--config.file=${config}`,
    `--storage.path=${join(dir, 'alertmanager-data')}`,
    `--web.listen-address=${address}`,
    '--cluster.listen-address=',
  ]);
}

/** The result of an instant query: one entry per series, its labels and value. */
export async function promQuery(prometheus: ServiceProcess, expr: string): Promise<Array<{ metric: Record<string, string>; value: number }>> {
  const res = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await res.json()) as { status: string; error?: string; data?: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
  if (body.status !== 'success') throw new Error(`query ${expr}: ${body.error ?? res.status}`);
  return body.data!.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
}

/** One POST an HTTP receiver got: its path, when, and its JSON body. */
export interface Delivery {
  path: string;
  at: number;
  body: unknown;
}

/** An HTTP server in the test process that answers every POST 200 and keeps its JSON body. */
export class HttpReceiver {
  readonly deliveries: Delivery[] = [];

  private constructor(private readonly server: Server) {}

  static async start(): Promise<HttpReceiver> {
    const server = createServer();
    const receiver = new HttpReceiver(server);
    server.on('request', (req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString('utf8')));
      req.on('end', () => {
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // kept as text
        }
        receiver.deliveries.push({ path: req.url ?? '', at: Date.now(), body });
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Bodies received on `path`, oldest first. */
  on(path: string): unknown[] {
    return this.deliveries.filter((d) => d.path === path).map((d) => d.body);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
