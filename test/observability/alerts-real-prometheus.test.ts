import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

describe('alert rules on a real Prometheus scraping the sample app (outage, recovery, rate-limit storm)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alerts-prometheus-'));
  let app: ChildProcess;
  let prometheus: ChildProcess;
  let appUrl = '';
  let promUrl = '';
  let traffic: NodeJS.Timeout | undefined;
  const admin = { authorization: 'Bearer alerts-test-token-01', 'content-type': 'application/json' };

  const alerts = async (): Promise<Alert[]> => {
    const body = (await (await fetch(`${promUrl}/api/v1/alerts`)).json()) as { data: { alerts: Alert[] } };
    return body.data.alerts;
  };
  /** A PromQL query's first result, or undefined while it has none. */
  const query = async (promql: string) => {
    const response = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await response.json()) as { data: { result: { value: [number, string] }[] } };
    return body.data.result[0]?.value[1];
  };
  const stateOf = async (alertname: string, label: string, value: string) =>
    (await alerts()).find((a) => a.labels.alertname === alertname && a.labels[label] === value)?.state;
  const firing = (alertname: string, label: string, value: string) =>
    until(
      `${alertname}{${label}="${value}"} to fire`,
      async () => ((await stateOf(alertname, label, value)) === 'firing' ? true : undefined),
      60_000,
    );
  /** Steady traffic: `perSecond` calls of `call`, until the next phase replaces it. */
  const drive = (perSecond: number, call: () => Promise<unknown>) => {
    if (traffic) clearInterval(traffic);
    traffic = setInterval(() => void call().catch(() => undefined), 1000 / perSecond);
  };
  const pay = () =>
    fetch(`${appUrl}/payments`, { method: 'POST', headers: admin, body: '{"orderId":"o","amount":1}' }).then((r) =>
      r.arrayBuffer(),
    );

  before(async () => {
    const appPort = await freePort();
    app = spawn(process.execPath, [join(root, 'dist/sample-app/main.js')], {
      cwd: dir,
      env: {
        ...process.env,
        PORT: String(appPort),
        SAMPLE_CONFIG: 'demo',
        ADMIN_TOKEN: 'alerts-test-token-01',
        REDIS_URL: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const appOutput = lines(app);
    appUrl = `http://127.0.0.1:${appPort}`;
    await until('the sample app', async () => ((await fetch(`${appUrl}/health`)).ok ? true : undefined), 20_000).catch(
      (error) => {
        throw new Error(`${error.message}\n${appOutput.text()}`);
      },
    );
    writeFileSync(join(dir, 'rules.yml'), fastRules());
    writeFileSync(
      join(dir, 'prometheus.yml'),
      [
        'global: { scrape_interval: 1s, evaluation_interval: 1s }',
        'rule_files: [rules.yml]',
        'scrape_configs:',
        `  - { job_name: sample, metrics_path: /metrics, static_configs: [{ targets: ['127.0.0.1:${appPort}'] }] }`,
      ].join('\n'),
    );
    const promPort = await freePort();
    promUrl = `http://127.0.0.1:${promPort}`;
    prometheus = spawn(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'tsdb')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const promOutput = lines(prometheus);
    await until('prometheus', async () => ((await fetch(`${promUrl}/-/ready`)).ok ? true : undefined), 30_000).catch(
      (error) => {
        throw new Error(`${error.message}\n${promOutput.text()}`);
      },
    );
  });

  after(async () => {
    if (traffic) clearInterval(traffic);
    for (const child of [app, prometheus]) {
      if (child && child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((resolve) => child.once('exit', resolve));
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('stay silent on healthy traffic, fire through an outage, clear on recovery, and fire on a rate-limit storm', {
    timeout: 170_000,
  }, async () => {
    // Healthy: a payment a second (under the payments limiter's 110 a minute), every one
    // succeeds. Nothing may even go pending (HighRetryRate used to fire on healthy calls).
    drive(1, pay);
    await until('the first scrapes', async () => ((await query('up')) === '1' ? true : undefined), 20_000);
    await new Promise((r) => setTimeout(r, 12_000));
    assert.deepEqual(await alerts(), [], 'alerts on healthy traffic');

    // Outage: the payments downstream fails every call. The breaker opens (3 s open time in
    // the demo config), goes half-open, fails its trial, opens again...
    assert.equal(
      (await fetch(`${appUrl}/admin/downstream`, { method: 'PUT', headers: admin, body: '{"failureRate":1}' })).status,
      200,
    );
    await firing('CircuitBreakerOpen', 'service', 'payment_gateway');
    await firing('DLQNotProcessed', 'queue', 'payment_gateway');
    assert.equal(await stateOf('CircuitBreakerFlapping', 'service', 'payment_gateway'), undefined);

    // Recovery: the downstream heals, the letters are replayed; the breaker closes and stays closed.
    await fetch(`${appUrl}/admin/downstream`, { method: 'PUT', headers: admin, body: '{"failureRate":0}' });
    await until('the breaker to close', () => query('circuit_breaker_state{service="payment_gateway"} == 0'), 30_000);
    const replay = await fetch(`${appUrl}/resilience/dlq/payment_gateway/replay`, {
      method: 'POST',
      headers: admin,
      body: '{"limit":1000,"ratePerSecond":50}',
    });
    assert.equal(replay.status, 201, await replay.text());
    await until(
      'CircuitBreakerOpen to clear',
      async () =>
        (await stateOf('CircuitBreakerOpen', 'service', 'payment_gateway')) === undefined ? true : undefined,
      40_000,
    );
    assert.equal(
      await stateOf('CircuitBreakerFlapping', 'service', 'payment_gateway'),
      undefined,
      'one outage is not flapping',
    );

    // A rate-limit storm: user_api allows 5 a minute per IP; 20 calls a second.
    drive(20, () => fetch(`${appUrl}/users/1`).then((r) => r.arrayBuffer()));
    await firing('RateLimitHitRate', 'key', 'user_api');
    assert.equal(await stateOf('HighRetryRate', 'operation', 'payment_gateway'), undefined);
  });
});
