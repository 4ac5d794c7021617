import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort } from '../support/redis-server.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * The shipped rules with their time scale shrunk so an outage plays out in seconds, for
 * this test only: windows and `for:` durations (5m -> 10s...), and the two thresholds that
 * are rates or ages (100 retries/s -> 1/s, a day -> 5 s). The expressions are the shipped ones.
 */
function fastRules(): string {
  const windows: Record<string, string> = { '5m': '10s', '15m': '30s', '1h': '60s' };
  const holds: Record<string, string> = { '1m': '1s', '5m': '2s', '10m': '2s', '30m': '2s', '1h': '5s' };
  return readFileSync(join(root, 'alerts/resilience.rules.yml'), 'utf8')
    .replace(/\[(\d+[mh])\]/g, (_, d: string) => `[${windows[d] ?? d}]`)
    .replace(/for: (\d+[mh])/g, (_, d: string) => `for: ${holds[d] ?? d}`)
    .replace('(rate(retries_total[10s])) > 100', '(rate(retries_total[10s])) > 1')
    .replace('(dlq_oldest_message_age_seconds) > 86400', '(dlq_oldest_message_age_seconds) > 5');
}

interface Alert {
  labels: Record<string, string>;
  state: 'pending' | 'firing';
}

function lines(child: ChildProcess): { text: () => string } {
  let text = '';
  child.stdout?.on('data', (chunk) => (text += chunk));
  child.stderr?.on('data', (chunk) => (text += chunk));
  return { text: () => text };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The labels an alert has whatever exported it: without the scrape's job and instance, or OTel's scope. */
function alertKey(alert: Alert): string {
  const { job: _job, instance: _instance, otel_scope_name: _scope, ...labels } = alert.labels;
  return `${alert.state} ${JSON.stringify(Object.entries(labels).sort())}`;
}

/**
 * One sample app, its metrics exported by prom-client (served at /metrics) or by OpenTelemetry's
 * Prometheus exporter, and a Prometheus of its own evaluating the shipped rules on them (rules
 * that aggregate by a label drop `job`: one server per exporter keeps the two apart).
 */
interface Replica {
  job: 'prom-client' | 'opentelemetry';
  url: string;
  metricsTarget: string;
  child: ChildProcess;
  prometheus?: ChildProcess;
  promUrl?: string;
}

describe('alert rules on a real Prometheus scraping the sample app, through prom-client and through OpenTelemetry', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alerts-prometheus-'));
  const replicas: Replica[] = [];
  let traffic: NodeJS.Timeout | undefined;
  const admin = { authorization: 'Bearer alerts-test-token-01', 'content-type': 'application/json' };

  const alerts = async (replica: Replica): Promise<Alert[]> => {
    const body = (await (await fetch(`${replica.promUrl}/api/v1/alerts`)).json()) as { data: { alerts: Alert[] } };
    return body.data.alerts;
  };
  /** A PromQL query's first result, or undefined while it has none. */
  const query = async (replica: Replica, promql: string) => {
    const response = await fetch(`${replica.promUrl}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await response.json()) as { data: { result: { value: [number, string] }[] } };
    return body.data.result[0]?.value[1];
  };
  /** Until `probe` holds on both servers. */
  const onBoth = (what: string, probe: (replica: Replica) => Promise<boolean>, ms: number) =>
    until(
      `${what} on both`,
      async () => {
        for (const replica of replicas) if (!(await probe(replica))) return undefined;
        return true;
      },
      ms,
    );
  const stateOf = async (replica: Replica, alertname: string, label: string, value: string) =>
    (await alerts(replica)).find((a) => a.labels.alertname === alertname && a.labels[label] === value)?.state;
  const firing = (alertname: string, label: string, value: string) =>
    onBoth(
      `${alertname}{${label}="${value}"} to fire`,
      async (r) => (await stateOf(r, alertname, label, value)) === 'firing',
      60_000,
    );
  const clearedFor = (alertname: string, label: string, value: string) =>
    onBoth(
      `${alertname}{${label}="${value}"} to clear`,
      async (r) => (await stateOf(r, alertname, label, value)) === undefined,
      40_000,
    );
  /** Both servers' alerts, as sets of names, labels and states, become (and are) the same. */
  const sameAlerts = async (moment: string) => {
    const byJob = async () => Promise.all(replicas.map(async (r) => (await alerts(r)).map(alertKey).sort()));
    await until(
      `the same alerts for both exporters ${moment}`,
      async () => {
        const [a, b] = await byJob();
        return JSON.stringify(a) === JSON.stringify(b) ? true : undefined;
      },
      15_000,
    ).catch(async (error) => {
      throw new Error(`${error.message}: ${JSON.stringify(await byJob())}`);
    });
  };
  /** Steady traffic to both apps: `perSecond` calls of `call`, until the next phase replaces it. */
  const drive = (perSecond: number, call: (url: string) => Promise<unknown>) => {
    if (traffic) clearInterval(traffic);
    traffic = setInterval(() => {
      for (const { url } of replicas) void call(url).catch(() => undefined);
    }, 1000 / perSecond);
  };
  const pay = (url: string) =>
    fetch(`${url}/payments`, { method: 'POST', headers: admin, body: '{"orderId":"o","amount":1}' }).then((r) =>
      r.arrayBuffer(),
    );
  const everyApp = (path: string, init: RequestInit) =>
    Promise.all(replicas.map(({ url }) => fetch(`${url}${path}`, init)));

  async function startApp(job: Replica['job']): Promise<Replica> {
    const appPort = await freePort();
    const otelPort = await freePort();
    const child = spawn(process.execPath, [join(root, 'dist/sample-app/main.js')], {
      cwd: dir,
      env: {
        ...process.env,
        PORT: String(appPort),
        SAMPLE_CONFIG: 'demo',
        ADMIN_TOKEN: 'alerts-test-token-01',
        REDIS_URL: '',
        ...(job === 'opentelemetry' ? { METRICS_PROVIDER: job, OTEL_METRICS_PORT: String(otelPort) } : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output = lines(child);
    const url = `http://127.0.0.1:${appPort}`;
    await until('the sample app', async () => ((await fetch(`${url}/health`)).ok ? true : undefined), 20_000).catch(
      (error) => {
        throw new Error(`${error.message}\n${output.text()}`);
      },
    );
    const metricsTarget = job === 'opentelemetry' ? `127.0.0.1:${otelPort}` : `127.0.0.1:${appPort}`;
    return { job, url, metricsTarget, child };
  }

  async function startPrometheus(replica: Replica): Promise<void> {
    const home = join(dir, replica.job);
    mkdirSync(home);
    writeFileSync(join(home, 'rules.yml'), fastRules());
    writeFileSync(
      join(home, 'prometheus.yml'),
      [
        'global: { scrape_interval: 1s, evaluation_interval: 1s }',
        'rule_files: [rules.yml]',
        'scrape_configs:',
        `  - { job_name: sample, metrics_path: /metrics, static_configs: [{ targets: ['${replica.metricsTarget}'] }] }`,
      ].join('\n'),
    );
    const promPort = await freePort();
    replica.promUrl = `http://127.0.0.1:${promPort}`;
    replica.prometheus = spawn(
      'prometheus',
      [
        `--config.file=${join(home, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(home, 'tsdb')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ],
      { cwd: home, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const output = lines(replica.prometheus);
    await until(
      'prometheus',
      async () => ((await fetch(`${replica.promUrl}/-/ready`)).ok ? true : undefined),
      30_000,
    ).catch((error) => {
      throw new Error(`${error.message}\n${output.text()}`);
    });
  }

  before(async () => {
    replicas.push(...(await Promise.all([startApp('prom-client'), startApp('opentelemetry')])));
    await Promise.all(replicas.map(startPrometheus));
  });

  after(async () => {
    if (traffic) clearInterval(traffic);
    for (const child of replicas.flatMap((r) => [r.child, r.prometheus])) {
      if (child && child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((resolve) => child.once('exit', resolve));
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('stay silent on healthy traffic, fire through an outage, clear on recovery, and fire on a rate-limit storm, the same on both', {
    timeout: 170_000,
  }, async () => {
    // Healthy: a payment a second (under the payments limiter's 110 a minute), every one
    // succeeds. Nothing may even go pending (HighRetryRate used to fire on healthy calls).
    drive(1, pay);
    await onBoth('the first scrapes', async (r) => (await query(r, 'up')) === '1', 20_000);
    await new Promise((r) => setTimeout(r, 12_000));
    for (const replica of replicas)
      assert.deepEqual(await alerts(replica), [], `${replica.job}: alerts on healthy traffic`);

    // Outage: the payments downstream fails every call. The breaker opens (3 s open time in
    // the demo config), goes half-open, fails its trial, opens again...
    for (const response of await everyApp('/admin/downstream', {
      method: 'PUT',
      headers: admin,
      body: '{"failureRate":1}',
    })) {
      assert.equal(response.status, 200);
    }
    await firing('CircuitBreakerOpen', 'service', 'payment_gateway');
    await firing('DLQNotProcessed', 'queue', 'payment_gateway');
    await sameAlerts('during the outage');
    for (const replica of replicas) {
      assert.equal(
        await stateOf(replica, 'CircuitBreakerFlapping', 'service', 'payment_gateway'),
        undefined,
        replica.job,
      );
    }

    // Recovery: the downstream heals, the letters are replayed; the breaker closes and stays closed.
    await everyApp('/admin/downstream', { method: 'PUT', headers: admin, body: '{"failureRate":0}' });
    await onBoth(
      'the breaker to close',
      async (r) => (await query(r, 'circuit_breaker_state{service="payment_gateway"} == 0')) !== undefined,
      30_000,
    );
    const replays = await everyApp('/resilience/dlq/payment_gateway/replay', {
      method: 'POST',
      headers: admin,
      body: '{"limit":1000,"ratePerSecond":50}',
    });
    for (const replay of replays) assert.equal(replay.status, 201, await replay.text());
    await clearedFor('CircuitBreakerOpen', 'service', 'payment_gateway');
    for (const replica of replicas) {
      const flapping = await stateOf(replica, 'CircuitBreakerFlapping', 'service', 'payment_gateway');
      assert.equal(flapping, undefined, `${replica.job}: one outage is not flapping`);
    }

    // A rate-limit storm: user_api allows 5 a minute per IP; 20 calls a second.
    drive(20, (url) => fetch(`${url}/users/1`).then((r) => r.arrayBuffer()));
    await firing('RateLimitHitRate', 'key', 'user_api');
    await sameAlerts('in the rate-limit storm');
    for (const replica of replicas) {
      assert.equal(await stateOf(replica, 'HighRetryRate', 'operation', 'payment_gateway'), undefined, replica.job);
    }
  });
});
