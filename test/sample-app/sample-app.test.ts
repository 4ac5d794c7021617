import 'reflect-metadata';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { register } from 'prom-client';
import type { ManualClock } from '../../lib/index.js';
import { AppModule } from '../../sample-app/app.module.js';
import { DownstreamService } from '../../sample-app/downstream/downstream.service.js';
import { PLATFORMS, startHttpApp } from '../support/http-apps.js';
import { fakeTime } from '../support/nest-timing.js';

const run = promisify(execFile);
process.env.SAMPLE_CONFIG = 'demo';
process.env.DOWNSTREAM_LATENCY_MS = '0';
const TOKEN = 'test-admin-token';

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

for (const platform of PLATFORMS) {
  describe(`sample app on ${platform}`, () => {
    let url: string;
    let clock: ManualClock;
    let downstream: DownstreamService;
    let close: () => Promise<void>;
    const json = { 'content-type': 'application/json' };
    const pay = () => fetch(`${url}/payments`, { method: 'POST', headers: json, body: '{"orderId":"o","amount":3}' });

    before(async () => {
      register.clear();
      process.env.ADMIN_TOKEN = TOKEN;
      const started = await startHttpApp(AppModule, platform, (builder) => {
        clock = fakeTime(builder).clock;
      });
      url = started.url;
      downstream = started.app.get(DownstreamService);
      close = () => started.app.close();
    });
    after(() => close());

    it('serves hello, and is healthy at start', async () => {
      assert.equal((await fetch(`${url}/`)).status, 200);
      const health = await fetch(`${url}/health`);
      assert.equal(health.status, 200);
      assert.equal(((await health.json()) as { status: string }).status, 'ok');
    });

    it('shows every guide metric with the values a demo-like sequence implies', async () => {
      downstream.set({ failureRate: 0 });
      assert.equal((await pay()).status, 201);
      assert.equal((await pay()).status, 201);
      downstream.set({ failureRate: 1 });
      assert.equal((await pay()).status, 500);
      assert.equal((await pay()).status, 500);
      assert.equal((await pay()).status, 503, 'critical: open after 2 failed calls');
      assert.equal((await fetch(`${url}/users/1`)).status, 500);
      const users = [];
      for (let i = 0; i < 5; i++) users.push((await fetch(`${url}/users/${i}`)).status);
      assert.equal(users.at(-1), 429, 'user_api: 5 per minute per IP in the demo config');
      assert.equal(
        (await fetch(`${url}/analytics/events`, { method: 'POST', headers: json, body: '{"name":"signup"}' })).status,
        201,
      );
      clock.advance(2_000); // less than the demo config's 3 s open time

      const text = await (await fetch(`${url}/metrics`)).text();
      const m = (series: string) => sample(text, series);
      assert.equal(m('circuit_breaker_state{service="payment_gateway"}'), 2);
      assert.equal(m('circuit_breaker_state{service="analytics"}'), 0);
      assert.equal(m('circuit_breaker_failures_total{service="payment_gateway"}'), 2);
      assert.equal(m('circuit_breaker_rejections_total{service="payment_gateway"}'), 1);
      assert.equal(
        m('retry_attempts_count{operation="payment_gateway"}'),
        4,
        '2 ok + 2 failed calls reached the retry',
      );
      assert.equal(m('retry_attempts_sum{operation="payment_gateway"}'), 12, '1 + 1 + 5 + 5 attempts');
      assert.equal(m('retries_total{operation="payment_gateway"}'), 8);
      assert.equal(m('retry_attempts_sum{operation="analytics"}'), 2, 'non_critical: 2 attempts');
      assert.equal(m('requests_total{key="payment_gateway"}'), 5);
      assert.equal(m('requests_total{key="user_api"}'), 6);
      assert.equal(m('rate_limit_rejections_total{key="user_api"}'), 1);
      assert.equal(m('dlq_size{queue="payment_gateway"}'), 3, '2 failed + 1 rejected by the open breaker');
      assert.equal(
        m('dlq_size{queue="user_api"}'),
        5,
        'the 5 failed calls; the rate-limited one was refused before it ran',
      );
      assert.equal(m('dlq_size{queue="analytics"}'), 1, 'swallowed, but kept');
      // 2 s, plus the retry waits of the calls made after the first dead letter (they advance the fake clock).
      const age = m('dlq_oldest_message_age_seconds{queue="payment_gateway"}') ?? 0;
      assert.ok(age >= 2 && age < 3, `oldest age ${age}`);
      assert.equal(m('dlq_added_total{queue="payment_gateway"}'), 3);
      assert.ok(m('circuit_breaker_transitions_total{service="payment_gateway",from="closed",to="open"}') === 1);
    });

    it('is 503 while the payments breaker is open, and 200 degraded while it is half-open', async () => {
      const open = await fetch(`${url}/health`);
      assert.equal(open.status, 503);
      clock.advance(1_000); // 3 s since the breaker opened: the demo config's open time
      const halfOpen = await fetch(`${url}/health`);
      assert.equal(halfOpen.status, 200);
      const body = (await halfOpen.json()) as { status: string; details: { resilience: { status: string } } };
      assert.equal(body.details.resilience.status, 'degraded');
      assert.equal(body.status, 'degraded');
    });

    it('refuses the console and the downstream switch without the token, and serves them with it', async () => {
      const letters = `${url}/resilience/dlq/payment_gateway`;
      assert.equal((await fetch(letters)).status, 401);
      assert.equal((await fetch(letters, { headers: { authorization: 'Bearer wrong-token-value' } })).status, 401);
      const listed = await fetch(letters, { headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(listed.status, 200);
      assert.equal(((await listed.json()) as { items: unknown[] }).items.length, 3);
      assert.equal((await fetch(`${url}/admin/downstream`, { method: 'PUT' })).status, 401);
      delete process.env.ADMIN_TOKEN;
      const off = await fetch(`${url}/admin/downstream`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      assert.equal(off.status, 404, 'the downstream switch is off without ADMIN_TOKEN');
      process.env.ADMIN_TOKEN = TOKEN;
    });
  });
}

describe('npm run demo', () => {
  it('exits 0 and prints each phase', async () => {
    const demo = fileURLToPath(new URL('../../sample-app/demo.js', import.meta.url));
    const { stdout } = await run(process.execPath, [demo], {
      timeout: 60_000,
      env: { ...process.env, ADMIN_TOKEN: 'demo-token-for-the-console', GAME_DAY_SECONDS: '3' },
    });
    for (const phase of [
      'phase 1: healthy downstream',
      'phase 2: outage',
      'breaker payment_gateway: closed -> open',
      'rejected at once',
      'phase 3: recovery',
      'breaker payment_gateway: open -> half_open',
      'breaker payment_gateway: half_open -> closed',
      'phase 4: replay the dead letters',
      'phase 5: game day',
      'experiments running: 0',
      'every phase behaved as expected',
    ]) {
      assert.ok(stdout.includes(phase), `missing "${phase}" in:\n${stdout}`);
    }
  });
});

describe('sample app with REDIS_URL', () => {
  it('keeps rate limits and dead letters in that Redis', async () => {
    const { testRedisUrl } = await import('../support/redis.js');
    const { createRedisClient } = await import('../../lib/index.js');
    process.env.REDIS_URL = testRedisUrl();
    register.clear();
    const inspector = await createRedisClient({ url: testRedisUrl() });
    const started = await startHttpApp(AppModule, 'express', (builder) => fakeTime(builder));
    try {
      await inspector.del('{dlq:payment_gateway}:letters', '{dlq:payment_gateway}:ids');
      started.app.get(DownstreamService).set({ failureRate: 1 });
      const response = await fetch(`${started.url}/payments`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      assert.equal(response.status, 500);
      assert.equal(await inspector.zcard('{dlq:payment_gateway}:ids'), 1, 'the dead letter is in Redis');
      const limiterKeys = await inspector.keys('{nest-resilience:global}:payment_gateway');
      assert.equal(limiterKeys.length, 1, 'the limiter state is in Redis');
    } finally {
      delete process.env.REDIS_URL;
      inspector.disconnect();
      await started.app.close();
    }
  });
});

describe('npm start with no ADMIN_TOKEN', () => {
  it('prints a generated token and commands that drive the flaky downstream and the admin API', async () => {
    const { spawn } = await import('node:child_process');
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const cwd = mkdtempSync(join(tmpdir(), 'sample-start-'));
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0' };
    delete env.ADMIN_TOKEN;
    delete env.REDIS_URL;
    const main = fileURLToPath(new URL('../../sample-app/main.js', import.meta.url));
    const child = spawn(process.execPath, [main], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    try {
      const deadline = Date.now() + 20_000;
      while (!/# recovery/.test(output) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.match(output, /ADMIN_TOKEN was not set: this run uses a generated one/);
      const token = /Bearer ([0-9a-f]{32})/.exec(output)?.[1];
      const url = /listening on (http:\/\/\S+)/.exec(output)?.[1];
      assert.ok(token && url, output);
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      const outage = await fetch(`${url}/admin/downstream`, { method: 'PUT', headers, body: '{"failureRate":1}' });
      assert.equal(outage.status, 200);
      const payment = await fetch(`${url}/payments`, {
        method: 'POST',
        headers,
        body: '{"orderId":"o-1","amount":10}',
      });
      assert.ok(payment.status >= 500, `a payment during the outage: ${payment.status}`);
      assert.match(output, new RegExp(`Console: ${url}/resilience`));
      const letters = await fetch(`${url}/resilience/dlq/payment_gateway`, { headers });
      assert.equal(letters.status, 200);
      assert.equal(
        (await fetch(`${url}/resilience/dlq/payment_gateway`)).status,
        401,
        'still closed without the token',
      );
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.on('exit', resolve));
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  it('npm run demo needs no set-up either', async () => {
    const demo = fileURLToPath(new URL('../../sample-app/demo.js', import.meta.url));
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.ADMIN_TOKEN;
    const { stdout } = await run(process.execPath, [demo], { timeout: 60_000, env });
    assert.match(stdout, /every phase behaved as expected/);
  });
});
