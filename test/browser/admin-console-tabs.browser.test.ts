import 'reflect-metadata';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { type Browser, chromium, type Page } from 'playwright-core';
import { CircuitBreakerService } from '../../lib/index.js';
import { AdminConsole } from '../../lib/nest/admin/admin-console.service.js';
import { ADMIN_TOKEN, startAdminApp } from '../support/admin-app.js';
import { CHROMIUM, CHROMIUM_FLAGS } from '../support/chromium.js';
import { PLATFORMS } from '../support/http-apps.js';
import { startPrefixProxy } from '../support/prefix-proxy.js';

const launch = (): Promise<Browser> => chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });

/** Signs a tab in and waits until it shows the payments breaker. */
async function signIn(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.fill('#token', ADMIN_TOKEN);
  await page.keyboard.press('Enter');
  await page.waitForSelector('[data-breaker="payments"]', { timeout: 5_000 });
}

/** The event streams the console holds open now. */
const openStreams = (app: Awaited<ReturnType<typeof startAdminApp>>) =>
  (app.app.get(AdminConsole) as unknown as { streamSockets: Set<unknown> }).streamSockets.size;

/** A cookie-based guard: the session cookie of the app's own login. */
@Injectable()
class SessionGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const cookie = context.switchToHttp().getRequest<{ headers: Record<string, string> }>().headers.cookie ?? '';
    return /(^|;\s*)session=operator(;|$)/.test(cookie);
  }
}

for (const platform of PLATFORMS) {
  describe(`the console in a real browser (${platform}): tabs, a proxy, another origin`, () => {
    let browser: Browser;
    before(async () => {
      browser = await launch();
    });
    after(() => browser?.close());

    it('seven tabs share one event stream; the seventh loads and forces a breaker, and the app still answers', async () => {
      const app = await startAdminApp(platform);
      const context = await browser.newContext();
      try {
        const pages: Page[] = [];
        for (let i = 0; i < 7; i++) {
          const page = await context.newPage();
          await signIn(page, `${app.url}/ops/resilience`);
          pages.push(page);
        }
        assert.equal(openStreams(app), 1, 'one stream for the whole browser');
        const seventh = pages[6];
        await seventh.click('button[aria-label="Force open payments"]');
        await seventh.click('#confirm-ok');
        for (const page of pages) {
          await page.waitForSelector('[data-breaker="payments"][data-state="open"]', { timeout: 3_000 });
        }
        assert.equal(app.app.get(CircuitBreakerService).get('payments').state, 'open');
        const other = await seventh.evaluate(
          async (base) =>
            (
              await fetch(`${base}/orders`, {
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                body: '{"order":"o-1"}',
              })
            ).status,
          app.url,
        );
        assert.ok(other > 0 && other < 600, 'the app answers this browser’s other requests');
        // The streaming tab goes: another takes the stream over.
        await pages[0].close();
        const deadline = Date.now() + 5_000;
        while (openStreams(app) !== 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        assert.equal(openStreams(app), 1);
      } finally {
        await context.close();
        await app.app.close();
      }
    });

    it('behind a reverse proxy that strips its prefix (/ops/resilience -> /resilience), the page loads and goes live', async () => {
      const app = await startAdminApp(platform, { enabled: true, path: '/resilience', token: ADMIN_TOKEN });
      const proxy = await startPrefixProxy('/ops', Number(new URL(app.url).port));
      const page = await browser.newPage();
      try {
        const failed: string[] = [];
        page.on('response', (r) => {
          if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
        });
        await signIn(page, `${proxy.url}/ops/resilience`);
        await page.waitForFunction("document.getElementById('connection')?.textContent?.startsWith('live')");
        assert.deepEqual(failed, []);
      } finally {
        await page.close();
        await proxy.close();
        await app.app.close();
      }
    });

    it('a page of another origin, with the operator’s cookie and CORS allowing credentials, cannot force a breaker', async () => {
      const app = await startAdminApp(
        platform,
        { enabled: true, path: '/ops/resilience', guard: new SessionGuard() },
        { beforeListen: (nest) => nest.enableCors({ origin: true, credentials: true }) },
      );
      // Another app on the same host (same site, another port): where an attacker's page would be.
      const evil = createServer((_req, res) => {
        res.setHeader('content-type', 'text/html');
        res.end('<!doctype html><title>other</title>');
      });
      await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
      const context = await browser.newContext();
      try {
        await context.addCookies([{ name: 'session', value: 'operator', url: app.url }]);
        const page = await context.newPage();
        await page.goto(`http://127.0.0.1:${(evil.address() as AddressInfo).port}/`);
        const status = await page.evaluate(
          async (target) =>
            (
              await fetch(`${target}/ops/resilience/breakers/payments/force-open`, {
                method: 'POST',
                credentials: 'include',
                headers: { 'content-type': 'application/json' },
                body: '{}',
              })
            ).status,
          app.url,
        );
        assert.equal(status, 403);
        assert.equal(app.app.get(CircuitBreakerService).get('payments').state, 'closed');
        // The operator's own page, same cookie, same origin: allowed.
        const own = await context.newPage();
        await own.goto(`${app.url}/ops/resilience`);
        await own.waitForSelector('[data-breaker="payments"]', { timeout: 5_000 });
      } finally {
        await context.close();
        evil.close();
        await app.app.close();
      }
    });
  });
}
