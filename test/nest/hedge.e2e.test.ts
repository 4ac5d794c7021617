import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Injectable } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { register } from 'prom-client';
import { currentCallSignal, ResilienceModule } from '../../lib/index.js';
import { Coalesce, Hedge } from '../../lib/nest/index.js';
import { type HeavyTailServer, startHeavyTailServer, timedCalls } from '../support/heavy-tail-server.js';
import { percentile } from '../support/overload-simulation.js';

/**
 * About 99% of answers in 10 ms, 1% in 1 s: every 80th request (1.25%), so that the unhedged
 * p99 is a slow answer and not the boundary between the two (at exactly 1% it is either).
 */
const HEAVY_TAIL = { fastMs: 10, slowMs: 1000, slowEvery: 80 };
const CALLS = 2000;
const CONCURRENCY = 20;

describe('@Hedge with real fetch against a dependency with a heavy tail', () => {
  let dependency: HeavyTailServer;
  let moduleRef: TestingModule;

  @Injectable()
  class Search {
    async plain(): Promise<string> {
      return (await fetch(dependency.url)).text();
    }

    @Hedge({ delay: 'p95' })
    async hedged(): Promise<string> {
      return (await fetch(dependency.url, { signal: currentCallSignal() })).text();
    }
  }

  /** Another service: its own budget, 10% of its calls and no floor. */
  @Injectable()
  class SlowSearch {
    @Hedge({ delay: '20ms', budget: { ratio: 0.1, minPerSecond: 0 } })
    async alwaysSlow(): Promise<string> {
      return (await fetch(dependency.url, { signal: currentCallSignal() })).text();
    }
  }

  before(async () => {
    dependency = await startHeavyTailServer(HEAVY_TAIL);
    moduleRef = await Test.createTestingModule({
      imports: [ResilienceModule.forRoot({})],
      providers: [Search, SlowSearch],
    }).compile();
    await moduleRef.init();
  });
  after(async () => {
    await moduleRef.close();
    await dependency.close();
  });

  it("at 'p95' it cuts the client's p99 at least 5x with at most 5% extra requests", async (t) => {
    const search = moduleRef.get(Search);
    // Warm the connection pool and the sketch (its first samples) on both paths.
    await timedCalls(() => search.plain(), 200, CONCURRENCY);
    await timedCalls(() => search.hedged(), 200, CONCURRENCY);
    // Aborted losers of the warm-up may still be reaching the server: let them land before counting.
    await new Promise((resolve) => setTimeout(resolve, 300));

    let before = dependency.requests;
    const plain = await timedCalls(() => search.plain(), CALLS, CONCURRENCY);
    assert.equal(dependency.requests - before, CALLS);

    before = dependency.requests;
    const hedged = await timedCalls(() => search.hedged(), CALLS, CONCURRENCY);
    const extra = (dependency.requests - before - CALLS) / CALLS;

    const plainP99 = percentile(plain, 99);
    const hedgedP99 = percentile(hedged, 99);
    const figures = `p99 ${plainP99.toFixed(0)} ms unhedged, ${hedgedP99.toFixed(0)} ms hedged; extra requests ${(extra * 100).toFixed(2)}%`;
    t.diagnostic(figures);
    assert.ok(plainP99 >= 900, `the unhedged p99 is a slow answer: ${figures}`);
    assert.ok(plainP99 / hedgedP99 >= 5, `p99 cut at least 5x: ${figures}`);
    assert.ok(extra <= 0.05, `at most 5% extra requests: ${figures}`);
    assert.ok(dependency.abandoned > 0, 'the losing attempts were aborted on the wire');

    const metric = await register.getSingleMetric('hedges_total')?.get();
    const won = metric?.values.find((v) => v.labels.service === 'Search' && v.labels.outcome === 'won');
    assert.ok((won?.value ?? 0) >= CALLS / 80 - 5, 'hedges that won are counted');
  });

  it('when every answer is slow, the budget caps extra requests at its ratio', async (t) => {
    const search = moduleRef.get(SlowSearch);
    dependency.set({ fastMs: 100, slowMs: 100, slowEvery: 1 });
    // The last test's aborted losers may still be reaching the server: let them land before counting.
    await new Promise((resolve) => setTimeout(resolve, 300));
    try {
      const before = dependency.requests;
      const calls = 300;
      await timedCalls(() => search.alwaysSlow(), calls, 30);
      const extra = dependency.requests - before - calls;
      t.diagnostic(`every answer 100 ms, hedge after 20 ms, budget 10%: ${extra} extra requests for ${calls} calls`);
      assert.ok(extra <= calls * 0.1 + 1, `extra requests ${extra} for ${calls} calls: at most 10%`);
      assert.ok(extra >= calls * 0.1 - 3, `the budget's share is used: ${extra}`);
      const metric = await register.getSingleMetric('hedges_total')?.get();
      const refused = metric?.values.find(
        (v) => v.labels.service === 'SlowSearch' && v.labels.outcome === 'budget_exhausted',
      );
      assert.ok((refused?.value ?? 0) >= calls * 0.8, `refusals counted: ${refused?.value}`);
      const started = metric?.values.find((v) => v.labels.service === 'SlowSearch' && v.labels.outcome === 'started');
      assert.ok((started?.value ?? 0) <= calls * 0.1, `hedges started: ${started?.value}, at most 10% of ${calls}`);
    } finally {
      dependency.set(HEAVY_TAIL);
    }
  });
});

describe('@Coalesce with real fetch', () => {
  let dependency: HeavyTailServer;
  let moduleRef: TestingModule;

  @Injectable()
  class Profiles {
    @Coalesce()
    async load(id: number, options: { fields: string[] }): Promise<string> {
      return `${id}:${options.fields.join(',')}:${await (await fetch(dependency.url)).text()}`;
    }

    @Coalesce({ key: (id: number) => String(id) })
    async failing(id: number): Promise<string> {
      const response = await fetch(dependency.url);
      await response.text();
      throw new Error(`profile ${id} is damaged`);
    }
  }

  before(async () => {
    dependency = await startHeavyTailServer({ fastMs: 50, slowMs: 50, slowEvery: 1 });
    moduleRef = await Test.createTestingModule({
      imports: [ResilienceModule.forRoot({ metrics: { enabled: false } })],
      providers: [Profiles],
    }).compile();
    await moduleRef.init();
  });
  after(async () => {
    await moduleRef.close();
    await dependency.close();
  });

  it('1,000 concurrent identical calls make 1 downstream request; different keys never share', async () => {
    const profiles = moduleRef.get(Profiles);
    const before = dependency.requests;
    const results = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => profiles.load(7, i % 2 ? { fields: ['a', 'b'] } : { fields: ['a', 'b'] })),
    );
    assert.equal(dependency.requests - before, 1);
    assert.ok(results.every((r) => r === '7:a,b:ok'));
    const other = await Promise.all([profiles.load(8, { fields: ['a'] }), profiles.load(7, { fields: ['b'] })]);
    assert.deepEqual(other, ['8:a:ok', '7:b:ok']);
    assert.equal(dependency.requests - before, 3, 'other arguments, other executions');
  });

  it('an error is shared by every caller waiting for it', async () => {
    const profiles = moduleRef.get(Profiles);
    const before = dependency.requests;
    const settled = await Promise.allSettled(Array.from({ length: 50 }, () => profiles.failing(3)));
    assert.equal(dependency.requests - before, 1);
    assert.ok(settled.every((s) => s.status === 'rejected' && /profile 3 is damaged/.test(String(s.reason))));
  });
});
