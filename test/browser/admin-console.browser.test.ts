import 'reflect-metadata';
import assert from 'node:assert/strict';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { INestApplication } from '@nestjs/common';
import { type Browser, chromium, type Page } from 'playwright-core';
import { register } from 'prom-client';
import { BulkheadService, ChaosExperiments, CircuitBreakerService } from '../../lib/index.js';
import { CHROMIUM, CHROMIUM_FLAGS } from '../support/chromium.js';
import { PLATFORMS } from '../support/http-apps.js';

process.env.SAMPLE_CONFIG = 'demo';
process.env.DOWNSTREAM_LATENCY_MS = '2';
const TOKEN = 'browser-test-token-0001';
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
/** Screenshots are kept here; UPDATE_SCREENSHOT=1 also refreshes README's (taken while the breaker is open). */
const ARTIFACTS = process.env.TEST_ARTIFACTS ?? join(ROOT, '.artifacts');

/** Debian's chromium, headless (a fresh profile of Playwright's). */
const launch = (): Promise<Browser> => chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });

/** The name of an element as the test knows it: its label, else its text, else its id (run in the page). */
const NAME_OF = "(n) => (n.getAttribute('aria-label') || n.textContent.trim() || n.id).trim()";

/** The name of the focused element (what a keyboard user lands on). */
const focused = (page: Page) => page.evaluate<string>(`(${NAME_OF})(document.activeElement ?? document.body)`);

for (const platform of PLATFORMS) {
  describe(`the status page in headless Chromium, sample app on ${platform}`, () => {
    let app: INestApplication;
    let url: string;
    let browser: Browser;
    let page: Page;
    const problems: string[] = [];
    const admin = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    const setDownstream = (failureRate: number) =>
      fetch(`${url}/admin/downstream`, { method: 'PUT', headers: admin, body: JSON.stringify({ failureRate }) });
    const pay = () =>
      fetch(`${url}/payments`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"amount":1}',
      });

    before(async () => {
      register.clear();
      process.env.ADMIN_TOKEN = TOKEN;
      process.env.PLATFORM = platform;
      const { startSampleApp } = await import('../../sample-app/main.js');
      ({ app, url } = await startSampleApp(0, true));
      browser = await launch();
      page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      page.on('console', (message) => {
        if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
      });
      page.on('pageerror', (error) => problems.push(String(error)));
    });
    after(async () => {
      await browser?.close();
      await app?.close();
      delete process.env.PLATFORM;
    });

    it('loads, takes the token, and shows every breaker, limiter and queue of the app', async () => {
      const response = await page.goto(`${url}/resilience`);
      assert.equal(response?.status(), 200);
      await page.fill('#token', TOKEN);
      await page.keyboard.press('Enter');
      const breakers = [...app.get(CircuitBreakerService).all().keys()];
      assert.ok(breakers.length >= 3, breakers.join());
      for (const name of breakers) await page.waitForSelector(`[data-breaker="${name}"][data-state="closed"]`);
      assert.equal(await page.textContent('#connection'), 'live');
      assert.equal(await page.isHidden('#login'), true);
      for (const name of ['payment_gateway', 'user_api', 'analytics']) {
        assert.equal(await page.locator(`[data-queue="${name}"]`).count(), 1, `queue ${name}`);
        assert.equal(await page.locator(`[data-limiter="${name}"]`).count(), 1, `limiter ${name}`);
      }
      // analytics has an adaptive bulkhead: its tile shows the limit and what it has learned.
      const bulkheads = [...app.get(BulkheadService).all().keys()];
      assert.ok(bulkheads.includes('analytics'), bulkheads.join());
      await page.waitForSelector('[data-bulkhead="analytics"]');
      assert.match((await page.textContent('[data-bulkhead="analytics"] .big')) ?? '', /^limit \d+$/);
      assert.match(
        (await page.textContent('[data-bulkhead="analytics"] .figures')) ?? '',
        /in flight · \d+ queued · adaptive/,
      );
    });

    it('turns a tile OPEN within 2 s of an outage driven through the app, and CLOSED after recovery', async () => {
      const breakers = app.get(CircuitBreakerService);
      const changes: { to: string; at: number }[] = [];
      const off = breakers.subscribe({
        onStateChange: (_from, to, name) => {
          if (name === 'payment_gateway') changes.push({ to, at: Date.now() });
        },
      });
      try {
        assert.equal((await setDownstream(1)).status, 200);
        while (!changes.some((c) => c.to === 'open')) await pay();
        const opened = changes.find((c) => c.to === 'open')?.at ?? 0;
        await page.waitForSelector('[data-breaker="payment_gateway"][data-state="open"]', { timeout: 2_000 });
        const seen = Date.now() - opened;
        assert.ok(seen < 2_000, `the tile turned OPEN ${seen} ms after the breaker opened`);
        assert.equal(await page.textContent('[data-breaker="payment_gateway"] .state'), 'OPEN');
        if (process.env.UPDATE_SCREENSHOT && platform === 'express') {
          await new Promise((r) => setTimeout(r, 1_500)); // still open (3 s): its band has grown
          await page.screenshot({ path: join(ROOT, 'docs/images/admin-console.png'), fullPage: true });
        }

        await setDownstream(0);
        // The demo config's open time is 3 s; then trial calls close the breaker.
        const deadline = Date.now() + 20_000;
        while (breakers.get('payment_gateway').state !== 'closed' && Date.now() < deadline) {
          await pay();
          await new Promise((r) => setTimeout(r, 100));
        }
        const closed = changes.filter((c) => c.to === 'closed').pop()?.at ?? 0;
        assert.ok(closed > opened, 'the breaker closed again');
        await page.waitForSelector('[data-breaker="payment_gateway"][data-state="closed"]', { timeout: 2_000 });
        assert.ok(Date.now() - closed < 2_000);
        const letters = await page.textContent('[data-queue="payment_gateway"] .big');
        assert.match(letters ?? '', /^[1-9]\d* letters$/, 'the outage left dead letters, shown on the page');
      } finally {
        off();
      }
      mkdirSync(ARTIFACTS, { recursive: true });
      const shot = join(ARTIFACTS, `admin-console-${platform}.png`);
      await page.screenshot({ path: shot, fullPage: true });
      assert.ok(statSync(shot).size > 20_000, 'a real screenshot');
    });

    it('reaches every control with the keyboard, and a control asks before it acts', async () => {
      const controls = await page.evaluate<string[]>(
        `[...document.querySelectorAll('main button, main input, main summary')].map(${NAME_OF})`,
      );
      assert.ok(controls.length >= 15, controls.join(' | '));
      await page.evaluate('document.activeElement?.blur()');
      const reached = new Set<string>();
      for (let i = 0; i < controls.length + 5; i++) {
        await page.keyboard.press('Tab');
        reached.add(await focused(page));
      }
      assert.deepEqual(
        controls.filter((c) => !reached.has(c)),
        [],
        'controls Tab never reached',
      );

      const breaker = app.get(CircuitBreakerService).get('user_api');
      await page.focus('[aria-label="Force open user_api"]');
      await page.keyboard.press('Enter');
      assert.equal(await page.isVisible('#confirm'), true, 'a confirmation first');
      await page.keyboard.press('Escape');
      assert.equal(await page.isVisible('#confirm'), false);
      assert.equal(breaker.state, 'closed', 'Escape cancels');
      await page.keyboard.press('Enter'); // focus went back to the button
      assert.equal(await focused(page), 'Cancel');
      await page.keyboard.press('Tab');
      assert.equal(await focused(page), 'Confirm');
      await page.keyboard.press('Enter');
      await page.waitForSelector('[data-breaker="user_api"][data-state="open"]', { timeout: 2_000 });
      assert.equal(breaker.state, 'open');
      assert.equal(await page.textContent('[data-breaker="user_api"] .state'), 'FORCED OPEN');
      breaker.reset();
      await page.waitForSelector('[data-breaker="user_api"][data-state="closed"]', { timeout: 2_000 });
    });

    it('shows a running chaos experiment, and the kill switch ends it after a confirmation', async () => {
      const started = await fetch(`${url}/resilience/chaos`, {
        method: 'POST',
        headers: admin,
        body: JSON.stringify({
          service: 'payment_gateway',
          fault: 'error',
          error: 'ConnectionError',
          rate: 0.5,
          duration: '30s',
        }),
      });
      assert.equal(started.status, 201);
      const { id } = (await started.json()) as { id: string };
      const row = `[data-chaos="${id}"]`;
      await page.waitForSelector(row, { timeout: 3_000 });
      assert.match((await page.textContent(row)) ?? '', /payment_gateway.*error ConnectionError.*50%/s);
      await page.click('#chaos-stop-all');
      assert.equal(await page.isVisible('#confirm'), true, 'a confirmation first');
      await page.click('#confirm-ok');
      await page.waitForSelector(row, { state: 'detached', timeout: 3_000 });
      assert.deepEqual(app.get(ChaosExperiments).list(), []);
    });

    it('logged no console error or warning, and is small', async () => {
      assert.deepEqual(problems, []);
      const html = await (await fetch(`${url}/resilience`)).text();
      const script = await (await fetch(`${url}/resilience/console.js`)).text();
      const bytes = Buffer.byteLength(html) + Buffer.byteLength(script);
      assert.ok(bytes < 40_000, `page and script: ${bytes} bytes`);
    });
  });
}
