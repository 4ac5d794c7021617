import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BulkheadService } from '../../lib/index.js';
import { ADMIN_TOKEN, startAdminApp } from '../support/admin-app.js';
import { PLATFORMS } from '../support/http-apps.js';
import { httpError } from '../support/overload-simulation.js';

const BASE = '/ops/resilience';
// biome-ignore lint/suspicious/noExplicitAny: JSON answers read by path
type Json = Record<string, any>;

for (const platform of PLATFORMS) {
  describe(`admin console: an adaptive limit's history and swings, on ${platform}`, () => {
    let app: Awaited<ReturnType<typeof startAdminApp>>;
    const get = async (path: string) => {
      const response = await fetch(`${app.url}${BASE}/${path}`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      return (await response.json()) as Json;
    };

    before(async () => {
      app = await startAdminApp(platform);
    });
    after(() => app.app.close());

    it('shows each bulkhead’s limit, phase and moves; a fall under half within a minute is a swing, logged once with its reason', async () => {
      const bulkheads = app.app.get(BulkheadService);
      // One call at a time, a window per call: each call moves the limit on its own (virtual clock).
      const reports = bulkheads.get('reports', {
        adaptive: { algorithm: 'aimd', initialLimit: 3, maxLimit: 20, minSamples: 1, minWindowMs: 0, maxWindowMs: 0 },
      });
      const call = async (outcome: 'ok' | 503, inFlightTo = 1) => {
        const held: Promise<unknown>[] = [];
        let release!: () => void;
        const gate = new Promise<void>((resolve) => {
          release = resolve;
        });
        // `inFlightTo` calls at once, so the window counts as using the limit.
        for (let i = 0; i < inFlightTo; i++) {
          held.push(
            reports.execute(async () => {
              await gate;
              if (outcome === 503) throw httpError(503);
              return 'ok';
            }),
          );
        }
        app.clock.advance(10);
        release();
        await Promise.allSettled(held);
      };
      // Learn the no-load latency, grow in slow start while the limit is filled; a 503 ends
      // slow start, a window at the no-load latency finds the limit; then 503s, one a window.
      await call('ok');
      for (let i = 0; i < 3; i++) await call('ok', reports.limit);
      assert.ok(reports.limit >= 12, `slow start grew the limit to ${reports.limit}`);
      await call(503);
      await call('ok', reports.limit);
      const learned = reports.limit;
      while (reports.limit * 2 >= learned) await call(503);
      const body = await get('bulkheads');
      const view = body.bulkheads.find((b: Json) => b.name === 'reports');
      assert.equal(view.limit, reports.limit);
      assert.equal(view.adaptive.phase, 'steady');
      assert.equal(view.adaptive.noLoadRttMs, 10);
      assert.deepEqual(
        view.changes.slice(0, 2).map((c: Json) => c.reason),
        ['slow_start', 'slow_start'],
      );
      assert.equal(view.changes.at(-1).reason, 'overload');
      assert.equal(view.swings.length, 1);
      assert.equal(view.swings[0].direction, 'down');
      assert.equal(view.swings[0].reason, 'overload');
      assert.equal(view.swings[0].to, reports.limit);
      // Logged once, whatever the falls after it within the minute.
      await call(503);
      const logged = app.logs.lines.filter((l) => l.message.includes('adaptive limit fell'));
      assert.equal(logged.length, 1, JSON.stringify(logged));
      assert.match(
        logged[0].message,
        /^Bulkhead "reports": adaptive limit fell from \d+ to \d+ within 0 s: the dependency answered with overload signals/,
      );
      // The page's status has it too.
      const status = await get('status');
      assert.ok(status.bulkheads.some((b: Json) => b.name === 'reports'));
    });
  });
}
