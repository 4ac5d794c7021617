import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Injectable, Module } from '@nestjs/common';
import { type Browser, chromium } from 'playwright-core';
import { Coalesce, Fallback, ResilienceModule, Timeout } from '../../lib/index.js';
import { ADMIN_TOKEN } from '../support/admin-app.js';
import { CHROMIUM, CHROMIUM_FLAGS } from '../support/chromium.js';
import { startHttpApp } from '../support/http-apps.js';

@Injectable()
class Quotes {
  /** Never answers: every call times out at 30 ms. */
  @Timeout('30ms')
  async slow(): Promise<string> {
    return new Promise<string>(() => undefined);
  }

  @Fallback({ value: 'cached quote' })
  async fresh(): Promise<string> {
    throw Object.assign(new Error('quote service refused'), { code: 'ECONNREFUSED' });
  }

  @Coalesce()
  async rates(currency: string): Promise<string> {
    await new Promise((resolve) => setTimeout(resolve, 20));
    return `rates in ${currency}`;
  }
}

@Module({
  imports: [
    ResilienceModule.forRoot({
      metrics: { enabled: false },
      admin: { enabled: true, path: '/ops', token: ADMIN_TOKEN },
    }),
  ],
  providers: [Quotes],
})
class QuotesModule {}

describe("the console's timeouts, fallbacks, hedges and coalescing (headless Chromium)", () => {
  let app: Awaited<ReturnType<typeof startHttpApp>>;
  let browser: Browser;
  before(async () => {
    app = await startHttpApp(QuotesModule, 'express');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
  });
  after(async () => {
    await browser?.close();
    await app?.app.close();
  });

  it('counts each outcome by service and pattern, in the status and on the page', async () => {
    const quotes = app.app.get(Quotes);
    for (let i = 0; i < 2; i++) await quotes.slow().catch(() => undefined);
    assert.equal(await quotes.fresh(), 'cached quote');
    await Promise.all(Array.from({ length: 5 }, () => quotes.rates('EUR')));
    const status = (await (
      await fetch(`${app.url}/ops/status`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
    ).json()) as { patterns: { service: string; pattern: string; counts: Record<string, number> }[] };
    const counts = Object.fromEntries(status.patterns.map((p) => [`${p.service}:${p.pattern}`, p.counts]));
    assert.deepEqual(counts['Quotes:timeout'], { 'timed out (call)': 2 });
    assert.deepEqual(counts['Quotes:fallback'], { answered: 1 });
    assert.deepEqual(counts['Quotes:coalesce'], { joined: 4 }, 'four calls shared the first one');

    const page = await browser.newPage();
    await page.goto(`${app.url}/ops`);
    await page.fill('#token', ADMIN_TOKEN);
    await page.keyboard.press('Enter');
    const row = '[data-pattern="Quotes:timeout"]';
    await page.waitForSelector(row, { timeout: 5_000 });
    assert.match((await page.textContent(row)) ?? '', /Quotes\s*timeout\s*timed out \(call\) 2/);
    assert.match((await page.textContent('[data-pattern="Quotes:coalesce"]')) ?? '', /joined 4/);
  });
});
