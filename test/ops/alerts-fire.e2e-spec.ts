import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describeWithBinaries, findBinary } from '../support/binaries.js';
import { SampleProcess } from '../support/sample-process.js';
import { waitFor } from '../support/wait.js';
import { connect, type TestSocket } from '../support/ws-client.js';
import {
  ALERTING_INSTALL,
  ALERTMANAGER,
  HttpReceiver,
  PROMETHEUS,
  paced,
  promQuery,
  startAlertmanager,
  startPrometheus,
  writeAlertmanagerConfig,
  type ServiceProcess,
} from './alerting-stack.js';
import { PROMTOOL_SKIP_NOTE, promtool, promtoolRequired } from './promtool.js';
import { SPEED_UP, durationMs, scaleDuration, scaleExpr, scaleRuleFile } from './speed-up.js';

// Issue 18, "alerts that really fire": the shipped rules, routes and chat template,
// run for real against the sample, SPEED_UP times faster (speed-up.ts).

const ROOT = join(import.meta.dirname, '..', '..');
const PROM_DIR = join(ROOT, 'deploy', 'prometheus');
const AMTOOL = findBinary('AMTOOL', ['amtool']);

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
const shippedRulesText = readFileSync(join(PROM_DIR, 'ws-alerts.yml'), 'utf8');
const rulesOf = (text: string): Rule[] => (parse(text) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((g) => g.rules);
const shippedRules = rulesOf(shippedRulesText);

const DURATIONS = /(?<=\[|:|offset\s+)(?:\d+(?:ms|[smhdwy]))+/g;
/** The durations of a PromQL expression, in order, in milliseconds. */
const durationsIn = (expr: string): number[] => [...expr.matchAll(DURATIONS)].map((m) => durationMs(m[0]));

describe(`the alert rules sped up ${SPEED_UP} times for the tests (speed-up.ts)`, () => {
  const scaled = rulesOf(scaleRuleFile(shippedRulesText));

  it('divides every duration by the one factor and changes nothing else', () => {
    expect(scaled.map((r) => r.alert)).toEqual(shippedRules.map((r) => r.alert));
    expect(shippedRules.flatMap((r) => durationsIn(r.expr)).length).toBeGreaterThan(shippedRules.length);
    for (const [i, rule] of shippedRules.entries()) {
      const fast = scaled[i]!;
      expect(durationsIn(fast.expr)).toEqual(durationsIn(rule.expr).map((ms) => ms / SPEED_UP));
      expect(fast.expr.replace(DURATIONS, 'D')).toBe(rule.expr.replace(DURATIONS, 'D'));
      expect(durationMs(fast.for!)).toBe(durationMs(rule.for!) / SPEED_UP);
      expect({ ...fast, expr: '', for: '' }).toEqual({ ...rule, expr: '', for: '' });
    }
  });

  it('turns 5m into 5s, 1h into 1m, 30s into 500ms, and leaves label matchers alone', () => {
    expect(['5m', '1h', '30s', '4h', '1h30m'].map((d) => scaleDuration(d))).toEqual(['5s', '1m', '500ms', '4m', '90s']);
    expect(scaleExpr('rate(x{status=~"5.."}[5m:1m]) / y offset 5m > 0.05')).toBe('rate(x{status=~"5.."}[5s:1s]) / y offset 5s > 0.05');
    expect(() => scaleDuration('1ms')).toThrow('below Prometheus');
  });

  (promtoolRequired ? it : it.skip)(`gives rules promtool accepts${PROMTOOL_SKIP_NOTE}`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fast-rules-'));
    try {
      writeFileSync(join(dir, 'ws-alerts.yml'), scaleRuleFile(shippedRulesText));
      const result = await promtool(['check', 'rules', 'ws-alerts.yml'], { cwd: dir });
      expect({ code: result.code, out: result.stdout }).toEqual({ code: 0, out: expect.stringContaining(`SUCCESS: ${shippedRules.length} rules found`) });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeWithBinaries('amtool on the Alertmanager config (deploy/alertmanager)', { amtool: AMTOOL }, ALERTING_INSTALL, () => {
  const amtool = async (config: string): Promise<string> => {
    const { execFile } = await import('node:child_process');
    return new Promise((resolve, reject) =>
      execFile(AMTOOL!, ['check-config', config], (err, stdout, stderr) => (err ? reject(new Error(`${stdout}${stderr}`)) : resolve(stdout))),
    );
  };

  it('accepts the shipped config and its template', async () => {
    expect(await amtool(join(ROOT, 'deploy', 'alertmanager', 'alertmanager.yml'))).toMatch(/1 templates[\s\S]*SUCCESS/);
  });

  it('accepts the sped-up config the alert test runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fast-am-'));
    try {
      const config = writeAlertmanagerConfig(dir, 'http://127.0.0.1:9', SPEED_UP);
      expect(await amtool(config)).toContain('SUCCESS');
      const route = (parse(readFileSync(config, 'utf8')) as { route: Record<string, string> }).route;
      expect([route.group_wait, route.group_interval, route.repeat_interval]).toEqual(['500ms', '5s', '4m']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A moderation service for the sample (MODERATION_URL) that answers 503 while `failing`. */
class ModerationService {
  failing = false;
  private constructor(private readonly server: Server) {}

  static async start(): Promise<ModerationService> {
    const server = createServer();
    const service = new ModerationService(server);
    server.on('request', (req, res) => {
      req.resume().on('end', () => {
        if (service.failing) res.writeHead(503).end('moderation is down');
        else res.writeHead(200, { 'content-type': 'application/json' }).end('{"allowed":true}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return service;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/check`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Alice chatting in one room, a message every 50 ms, counting how the sample answers. */
class ChatTraffic {
  readonly answers: Array<{ at: number; event: string; code?: string }> = [];
  private running = true;
  private readonly done: Promise<void>;

  private constructor(private readonly socket: TestSocket) {
    this.done = this.loop();
  }

  static async start(sample: SampleProcess): Promise<ChatTraffic> {
    const socket = await connect(`${sample.wsUrl}/chat`, { headers: { authorization: 'Bearer alice-token' } });
    const joined = await socket.request('join', { room: 'ops' }, 'joined');
    if (joined.event !== 'joined') throw new Error(`join failed: ${JSON.stringify(joined)}`);
    return new ChatTraffic(socket);
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const reply = await this.socket.request('message', { room: 'ops', text: 'status?' }, 'sent');
      this.answers.push({ at: Date.now(), event: reply.event, code: (reply.data as { code?: string } | undefined)?.code });
      this.socket.frames.length = 0; // drop the room broadcasts of our own messages
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** How the sample answered since `since`: `sent` or the error frame's code, with counts. */
  since(since: number): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const a of this.answers.filter((x) => x.at >= since)) counts[a.code ?? a.event] = (counts[a.code ?? a.event] ?? 0) + 1;
    return counts;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
    await this.socket.close();
  }
}

interface WebhookAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
}
interface WebhookMessage {
  status: 'firing' | 'resolved';
  receiver: string;
  groupLabels: Record<string, string>;
  alerts: WebhookAlert[];
}
interface ChatMessage {
  attachments: Array<{ title: string; title_link: string; text: string; color: string }>;
}

/** A rule's annotation template as a RegExp of what it renders to: labels filled in, `$value` any number. */
function rendered(template: string, labels: Record<string, string>): RegExp {
  const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const parts = template.split(/(\{\{[^}]*\}\})/);
  return new RegExp(
    `^${parts
      .map((part) => {
        const label = /^\{\{\s*\$labels\.(\w+)\s*\}\}$/.exec(part);
        if (label) return escape(labels[label[1]!] ?? '');
        if (/^\{\{\s*\$value\b/.test(part)) return '[\\d.]+%?';
        return escape(part);
      })
      .join('')}$`,
  );
}

describeWithBinaries(
  `alerts that really fire: the sample, Prometheus and Alertmanager with the deploy/ configs, ${SPEED_UP} times faster`,
  { prometheus: PROMETHEUS, alertmanager: ALERTMANAGER },
  ALERTING_INSTALL,
  () => {
    const ALERT = 'WsMessageErrorRatioHigh';
    const rule = shippedRules.find((r) => r.alert === ALERT)!;
    const labels = { alertname: ALERT, severity: rule.labels.severity!, job: 'sample', path: '/chat' };
    const window = scaleDuration('5m');
    let dir: string;
    let moderation: ModerationService;
    let receiver: HttpReceiver;
    let sample: SampleProcess;
    let alertmanager: ServiceProcess;
    let prometheus: ServiceProcess;
    let traffic: ChatTraffic | undefined;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'alerts-fire-'));
      moderation = await ModerationService.start();
      receiver = await HttpReceiver.start();
      sample = await SampleProcess.start({ LOG_LEVEL: 'info', MODERATION_URL: moderation.url });
      alertmanager = await startAlertmanager(dir, receiver.url, SPEED_UP);
      prometheus = await startPrometheus(dir, { sample: `127.0.0.1:${sample.port}`, alertmanager: new URL(alertmanager.url).host }, SPEED_UP);
      await waitFor(
        paced(async () => (await promQuery(prometheus, 'up{job="sample"} == 1')).length === 1),
        15000,
        `Prometheus to scrape the sample:\n${prometheus.log}`,
      );
    }, 60000);

    afterAll(async () => {
      await traffic?.stop().catch(() => undefined);
      await prometheus?.stop();
      await alertmanager?.stop();
      await sample?.stop();
      await receiver?.stop();
      await moderation?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    /** The webhook and chat notifications of ALERT with this status, once one has arrived. */
    const notified = async (status: 'firing' | 'resolved', timeoutMs: number): Promise<{ webhook: WebhookMessage; chat: ChatMessage }> => {
      const ofAlert = (m: WebhookMessage): boolean => m.status === status && m.groupLabels.alertname === ALERT;
      const webhook = await waitFor(
        () => (receiver.on('/webhook/team-chat') as WebhookMessage[]).find(ofAlert),
        timeoutMs,
        `a ${status} ${ALERT} notification on the webhook; received: ${JSON.stringify(receiver.deliveries)}\nprometheus:\n${prometheus.log}\nalertmanager:\n${alertmanager.log}`,
      );
      const prefix = status === 'firing' ? '[FIRING' : '[RESOLVED]';
      const chat = await waitFor(
        () => (receiver.on('/chat/team-chat') as ChatMessage[]).find((m) => m.attachments?.[0]?.title.startsWith(prefix)),
        5000,
        `the ${status} team chat message; received: ${JSON.stringify(receiver.on('/chat/team-chat'))}`,
      );
      return { webhook, chat };
    };

    it(
      `${ALERT} fires while the moderation service fails, reaches the team chat and the webhook with summary, description and an absolute runbook link, and resolves when it recovers`,
      async () => {
        traffic = await ChatTraffic.start(sample);
        // Healthy traffic in Prometheus, and no alert.
        await waitFor(
          paced(async () => (await promQuery(prometheus, `sum(rate(ws_messages_received_total{path="/chat",event="message"}[${window}])) > 0`)).length === 1),
          15000,
          'Prometheus to see the chat traffic',
        );
        expect(await promQuery(prometheus, `ALERTS{alertname="${ALERT}"}`)).toEqual([]);
        expect(receiver.deliveries).toEqual([]);

        const faultAt = Date.now();
        moderation.failing = true;
        const firing = await notified('firing', 45000);
        const firedAt = Date.now();
        expect(traffic.since(faultAt)).toMatchObject({ INTERNAL: expect.any(Number) });

        const alert = firing.webhook.alerts.find((a) => a.status === 'firing')!;
        expect(firing.webhook.receiver).toBe('team-chat');
        expect(alert.labels).toEqual(labels);
        const { summary, description, runbook_url: runbook } = alert.annotations;
        expect(summary).toMatch(rendered(rule.annotations.summary!, labels));
        expect(summary).toBe('More than 5 % of WebSocket frames on /chat end in an error frame');
        expect(description).toMatch(rendered(rule.annotations.description!, labels));
        expect(runbook).toBe(rule.annotations.runbook_url);
        const url = new URL(runbook!);
        expect([url.protocol, url.hash]).toEqual(['https:', `#${ALERT.toLowerCase()}`]);

        const [card] = firing.chat.attachments;
        expect(card!.title).toBe(`[FIRING:1] ${ALERT} (sample)`);
        expect(card!.title_link).toBe(runbook);
        expect(card!.text).toContain(`Warning: ${summary}\n${description}\nRunbook: ${runbook}`);

        const recoveredAt = Date.now();
        moderation.failing = false;
        const resolved = await notified('resolved', 45000);
        const resolvedAt = Date.now();
        expect(traffic.since(recoveredAt + 1000)).toEqual({ sent: expect.any(Number) });
        expect(resolved.webhook.alerts.map((a) => [a.status, a.labels])).toEqual([['resolved', labels]]);
        expect(resolved.webhook.alerts[0]!.annotations.runbook_url).toBe(runbook);
        expect(resolved.chat.attachments[0]!.title).toBe(`[RESOLVED] ${ALERT} (sample)`);
        expect(resolved.chat.attachments[0]!.text).toContain(`Resolved: ${summary}`);

        // Nothing else fired on the way.
        const names = (receiver.on('/webhook/team-chat') as WebhookMessage[]).flatMap((m) => m.alerts.map((a) => a.labels.alertname));
        expect(new Set(names)).toEqual(new Set([ALERT]));
        process.stderr.write(`${ALERT}: fired ${firedAt - faultAt} ms after the fault, resolved ${resolvedAt - recoveredAt} ms after recovery\n`);
      },
      120000,
    );
  },
);
