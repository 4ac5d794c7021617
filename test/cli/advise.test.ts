import 'reflect-metadata';
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Test } from '@nestjs/testing';
import { register } from 'prom-client';
import { ADVISE_METRICS } from '../../lib/cli/advise/metric-names.js';
import { ResilienceModule } from '../../lib/index.js';
import { freePort } from '../support/redis-server.js';

const BIN = fileURLToPath(new URL('../../lib/cli/bin.js', import.meta.url));
const DAY = 86_400;

/**
 * Two weeks of the module's metrics, scraped every 30 s, as OpenMetrics text for promtool:
 * - payment_gateway: its dependency goes down for 4 minutes once a day; the breaker's open time
 *   is 30 s, so each outage opens it, then 7 half-open trials fail (re-open) before the 8th closes it;
 * - search_api: healthy for two weeks (state 0, no transition);
 * - new_service: three hours of metrics only.
 */
function history(end: number): string {
  const start = end - 14 * DAY;
  const scrape = 30;
  const outageAt = (day: number) => start + day * DAY + 3 * 3600 + (day % 5) * 1800; // varies the hour
  const transitions = [
    ['closed', 'open'],
    ['open', 'half_open'],
    ['half_open', 'open'],
    ['half_open', 'closed'],
  ] as const;
  // Transition times of every outage: open at 0, trials every 30 s, the one at 240 s succeeds.
  const events: [number, string, string][] = [];
  for (let day = 0; day < 14; day++) {
    const t0 = outageAt(day);
    events.push([t0, 'closed', 'open']);
    for (let k = 1; k <= 8; k++) {
      events.push([t0 + 30 * k, 'open', 'half_open']);
      events.push([t0 + 30 * k, 'half_open', k < 8 ? 'open' : 'closed']);
    }
  }
  const lines = ['# TYPE circuit_breaker_transitions counter'];
  for (const [from, to] of transitions) {
    const times = events.filter((e) => e[1] === from && e[2] === to).map((e) => e[0]);
    let count = 0;
    let next = 0;
    for (let t = start; t <= end; t += scrape) {
      while (next < times.length && times[next] <= t) {
        count++;
        next++;
      }
      lines.push(
        `circuit_breaker_transitions_total{service="payment_gateway",from="${from}",to="${to}"} ${count} ${t}`,
      );
    }
  }
  // orders_api: two pods, healthy for the whole window; each pod's transition counters hold what
  // they counted before it (constant). Pod b is replaced by pod c on day 10: b's series ends, c's
  // starts at 0. Summed across pods first, that drop read as a counter reset: a made-up outage.
  const replacedAt = start + 10 * DAY;
  const pods = [
    ['a', start, end, 3],
    ['b', start, replacedAt - scrape, 3],
    ['c', replacedAt, end, 0],
  ] as const;
  for (const [from, to] of transitions) {
    for (const [pod, first, last, count] of pods) {
      for (let t = first; t <= last; t += scrape)
        lines.push(
          `circuit_breaker_transitions_total{service="orders_api",instance="${pod}",from="${from}",to="${to}"} ${count} ${t}`,
        );
    }
  }
  // Two services in gradual rollout (10% of calls): checkout's new arm fails less (promote),
  // ledger's fails ten times as often (roll back). Counters per 30 s scrape k.
  const steps = (14 * DAY) / scrape;
  const counter = (name: string, labels: string, perScrape: (k: number) => number) => {
    for (let k = 0; k <= steps; k++) lines.push(`${name}{${labels}} ${perScrape(k)} ${start + k * scrape}`);
  };
  lines.push('# TYPE rollout_calls counter');
  for (const service of ['checkout', 'ledger']) {
    counter('rollout_calls_total', `service="${service}",arm="stable"`, (k) => k * 45);
    counter('rollout_calls_total', `service="${service}",arm="rollout"`, (k) => k * 5);
  }
  lines.push('# TYPE circuit_breaker_failures counter');
  counter('circuit_breaker_failures_total', 'service="checkout"', (k) => Math.floor(k / 2)); // 1.1% of 90/min
  counter('circuit_breaker_failures_total', 'service="checkout@rollout"', (k) => Math.floor(k / 20)); // 1% of 10/min
  counter('circuit_breaker_failures_total', 'service="ledger"', (k) => Math.floor(k / 4)); // 0.56%
  counter('circuit_breaker_failures_total', 'service="ledger@rollout"', (k) => Math.floor(k / 4)); // 5%
  // Every 5 minutes (counters need no finer scrape): retries, rate limits, dead letters.
  const slow = 300;
  const every5 = (name: string, labels: string, value: (k: number) => number) => {
    for (let k = 0; k <= (14 * DAY) / slow; k++) lines.push(`${name}{${labels}} ${value(k)} ${start + k * slow}`);
  };
  // inventory: 500 calls per 5 min, 300 on the first attempt, 100 on the 2nd, 50 on the 3rd, 50 on the 5th;
  // catalog: 500 calls, 495 on the first attempt, 5 on the 2nd.
  lines.push('# TYPE retry_attempts histogram');
  const buckets: [string, number, number][] = [
    ['1', 300, 495],
    ['2', 400, 500],
    ['3', 450, 500],
    ['4', 450, 500],
    ['5', 500, 500],
    ['+Inf', 500, 500],
  ];
  for (const [operation, column] of [
    ['inventory', 1],
    ['catalog', 2],
  ] as const) {
    for (const bucket of buckets)
      every5('retry_attempts_bucket', `operation="${operation}",le="${bucket[0]}"`, (k) => k * bucket[column]);
    every5('retry_attempts_sum', `operation="${operation}"`, (k) => k * (column === 1 ? 300 + 200 + 150 + 250 : 505));
    every5('retry_attempts_count', `operation="${operation}"`, (k) => k * 500);
  }
  // search_limiter refuses 5% of 5,000 requests per 5 min; public_limiter none.
  lines.push('# TYPE requests counter');
  every5('requests_total', 'key="search_limiter"', (k) => k * 5000);
  every5('requests_total', 'key="public_limiter"', (k) => k * 5000);
  lines.push('# TYPE rate_limit_rejections counter');
  every5('rate_limit_rejections_total', 'key="search_limiter"', (k) => k * 250);
  every5('rate_limit_rejections_total', 'key="public_limiter"', () => 0);
  // emails: one letter every 5 minutes, never replayed (the oldest ages for 14 days); orders:
  // replayed within the hour.
  lines.push('# TYPE dlq_added counter');
  every5('dlq_added_total', 'queue="emails"', (k) => k);
  every5('dlq_added_total', 'queue="orders"', (k) => Math.floor(k / 6));
  lines.push('# TYPE dlq_oldest_message_age_seconds gauge');
  every5('dlq_oldest_message_age_seconds', 'queue="emails"', (k) => k * slow);
  every5('dlq_oldest_message_age_seconds', 'queue="orders"', (k) => (k % 12) * slow);
  lines.push('# TYPE circuit_breaker_state gauge');
  for (const service of ['checkout', 'ledger']) {
    for (let t = start; t <= end; t += scrape) lines.push(`circuit_breaker_state{service="${service}"} 0 ${t}`);
  }
  const open = (t: number) => events.some(([at, , to]) => to === 'open' && t >= at && t < at + 30);
  for (let t = start; t <= end; t += scrape)
    lines.push(`circuit_breaker_state{service="payment_gateway"} ${open(t) ? 2 : 0} ${t}`);
  for (let t = start; t <= end; t += scrape) lines.push(`circuit_breaker_state{service="search_api"} 0 ${t}`);
  for (let t = end - 3 * 3600; t <= end; t += scrape) lines.push(`circuit_breaker_state{service="new_service"} 0 ${t}`);
  for (const [pod, first, last] of pods) {
    for (let t = first; t <= last; t += scrape)
      lines.push(`circuit_breaker_state{service="orders_api",instance="${pod}"} 0 ${t}`);
  }
  lines.push('# EOF');
  return `${lines.join('\n')}\n`;
}

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(process.execPath, [BIN, ...args], (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    ),
  );
}

describe('nest-resilience advise, against a real Prometheus with two weeks of backfilled history', () => {
  const dir = mkdtempSync(join(tmpdir(), 'advise-'));
  let prometheus: ChildProcess | undefined;
  let url = '';

  before(async () => {
    const end = Math.floor(Date.now() / 1000 / 60) * 60 - 120;
    writeFileSync(join(dir, 'history.om'), history(end));
    execFileSync(
      'promtool',
      ['tsdb', 'create-blocks-from', 'openmetrics', join(dir, 'history.om'), join(dir, 'tsdb')],
      {
        stdio: 'ignore',
      },
    );
    writeFileSync(join(dir, 'prometheus.yml'), 'global: { scrape_interval: 30s }\n');
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    prometheus = spawn(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'tsdb')}`,
        '--storage.tsdb.retention.time=30d',
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: 'ignore' },
    );
    const deadline = Date.now() + 30_000;
    for (;;) {
      const ready = await fetch(`${url}/-/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) break;
      if (Date.now() > deadline) throw new Error('prometheus did not become ready');
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  after(async () => {
    if (prometheus && prometheus.exitCode === null) {
      prometheus.kill('SIGTERM');
      await new Promise((resolve) => prometheus?.once('exit', resolve));
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('names the flapping, measures the 4-minute MTTR, and proposes a timeout of 2-3x it', async () => {
    const { code, stdout, stderr } = await cli('advise', '--prometheus', url, '--service', 'payment_gateway');
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^payment_gateway: flapping: the breaker re-opened 7 times per outage \(median of 14\)/m);
    assert.match(stdout, /median (4\.0|4\.5|5\.0) min/);
    const timeout = Number(stdout.match(/^ +timeout: (\d+)$/m)?.[1]);
    assert.ok(timeout >= 480 && timeout <= 900, `proposed timeout ${timeout} s (2-3x a 4-5 min MTTR)`);
    assert.match(stdout, /Increase timeout to 2-3x MTTR/);
  });

  it('a healthy history: no changes; three hours of metrics: too little data, said plainly', async () => {
    const { code, stdout, stderr } = await cli('advise', '--prometheus', url);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^search_api: no changes \(0 outages in 14 days/m);
    assert.match(stdout, /^new_service: too little data to advise \(3 hours of metrics for new_service/m);
    assert.match(stdout, /^payment_gateway: flapping/m);
  });

  it('a pod replaced during the window is no outage: counters are differenced per pod, then added', async () => {
    const { code, stdout, stderr } = await cli('advise', '--prometheus', url, '--service', 'orders_api');
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^orders_api: no changes \(0 outages in 14 days/m);
  });

  it('docs/tuning.md shows this very session', async () => {
    const page = readFileSync(fileURLToPath(new URL('../../../docs/tuning.md', import.meta.url)), 'utf8');
    const shown = page.match(
      /```console\n\$ nest-resilience advise --prometheus http:\/\/prometheus:9090\n([\s\S]*?)\(exit 0\)\n```/,
    );
    assert.ok(shown, 'docs/tuning.md has an advise session');
    const { stdout } = await cli('advise', '--prometheus', url);
    // Call counts over the window shift by a scrape or two with the moment the test runs.
    const counts = (text: string) => text.replace(/\d{5,}/g, 'N');
    assert.equal(counts(stdout), counts(shown[1]));
  });

  it('gradual rollouts: compares the arms on the same traffic and says promote or roll back, with the numbers', async () => {
    const { code, stdout, stderr } = await cli('advise', '--prometheus', url);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^checkout: rollout promote \(rollout arm 20\d{4} calls, 10\.00% of traffic/m);
    assert.match(stdout, /failure rate: 1\.00% on the rollout arm, 1\.11% on the stable one/);
    assert.match(stdout, /^ledger: rollout roll back/m);
    assert.match(stdout, /failure rate: 5\.00% on the rollout arm, 0\.56% on the stable one \(worse\)/);
    assert.doesNotMatch(stdout, /^checkout@rollout/m, 'an arm is not a service of its own');
  });

  it("the guide's other symptoms: excessive retries, rate-limit false positives, a dead-letter queue nobody processes", async () => {
    const { code, stdout, stderr } = await cli('advise', '--prometheus', url);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^inventory: excessive retries: 40\.0% of calls needed a retry, 1\.80 attempts per call$/m);
    assert.match(stdout, /Reduce max_attempts to 3-5, add circuit breaker/);
    assert.doesNotMatch(stdout, /^catalog:/m, '1% retried is healthy');
    assert.match(stdout, /^search_limiter: rate-limit false positives\? 5\.0% of requests were refused$/m);
    assert.match(stdout, /^ {4}rateLimiters:\n {6}search_limiter:\n {8}rate: 1000\n {8}per: 60\n {8}burst: 200$/m);
    assert.doesNotMatch(stdout, /^public_limiter:/m);
    assert.match(stdout, /^emails: dead letters never processed: the oldest letter reached 14\.0 days$/m);
    assert.match(stdout, /inflow: 12 letters an hour \(median\), 12 at the 99th percentile/);
    assert.match(stdout, /alertThreshold: 36$/m);
    assert.doesNotMatch(stdout, /^orders:/m);
  });

  it('--prefix reads the names of an app with metrics.prefix (here none match: nothing to advise on)', async () => {
    const { code, stdout } = await cli('advise', '--prometheus', url, '--prefix', 'shop_');
    assert.equal(code, 0);
    assert.match(stdout, /^no circuit breaker metrics in the last 14 days: nothing to advise on$/m);
  });

  it("every metric it reads is one the module registers, with the labels it groups by (the real exporter's names)", async () => {
    register.clear();
    const moduleRef = await Test.createTestingModule({
      imports: [ResilienceModule.forRoot({ metrics: { enabled: true, prefix: 'shop_' } })],
    }).compile();
    moduleRef.useLogger(false);
    await moduleRef.init();
    try {
      for (const { name, labels } of Object.values(ADVISE_METRICS)) {
        const metric = register.getSingleMetric(`shop_${name}`) as { labelNames?: string[] } | undefined;
        assert.ok(metric, `the module registers shop_${name}`);
        for (const label of labels)
          assert.ok(metric.labelNames?.includes(label), `shop_${name} has the label ${label}`);
      }
    } finally {
      await moduleRef.close();
      register.clear();
    }
  });

  it('an unreachable Prometheus is an error naming it (exit 2)', async () => {
    const port = await freePort();
    const { code, stderr } = await cli('advise', '--prometheus', `http://127.0.0.1:${port}`);
    assert.equal(code, 2);
    assert.match(stderr, new RegExp(`cannot reach Prometheus at http://127.0.0.1:${port}`));
  });
});
