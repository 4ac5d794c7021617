import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Controller, Get, Injectable, Module } from '@nestjs/common';
import axios from 'axios';
import {
  currentDeadline,
  Deadline,
  DeadlineExceededError,
  deadlineAxiosInterceptor,
  ResilienceModule,
  Retry,
  resilientFetch,
} from '../../lib/index.js';
import { failingDependency } from '../support/failing-dependency.js';
import { PLATFORMS, startHttpApp } from '../support/http-apps.js';

const ROUNDS = { attempts: 20, waitMs: 30 };
const shared = { dependency: '', callee: '', seenDeadline: [] as (number | undefined)[] };

/** The callee: retries a failing dependency up to 20 times, 30 ms apart (about 700 ms in all). */
@Injectable()
class Ledger {
  @Retry({ maxAttempts: ROUNDS.attempts, baseDelay: ROUNDS.waitMs / 1000, jitter: false, exponentialBase: 1 })
  async post(): Promise<string> {
    shared.seenDeadline.push(currentDeadline());
    const response = await resilientFetch(shared.dependency);
    await response.text();
    if (!response.ok) throw new Error(`ledger dependency answered ${response.status}`);
    return 'posted';
  }
}

@Controller()
class LedgerController {
  constructor(private readonly ledger: Ledger) {}
  @Get('post')
  post() {
    return this.ledger.post();
  }
}

@Module({
  imports: [ResilienceModule.forRoot({ metrics: { enabled: false } })],
  controllers: [LedgerController],
  providers: [Ledger],
})
class CalleeModule {}

/** The caller: 200 ms for the whole checkout; with or without passing the deadline on. */
@Injectable()
class Checkout {
  @Deadline('200ms')
  async propagated(): Promise<number> {
    return (await resilientFetch(`${shared.callee}/post`)).status;
  }

  @Deadline('200ms')
  async viaAxios(): Promise<number> {
    const client = axios.create({ validateStatus: () => true });
    client.interceptors.request.use(deadlineAxiosInterceptor);
    return (await client.get(`${shared.callee}/post`)).status;
  }

  @Deadline('200ms')
  async notPropagated(): Promise<number> {
    // Plain fetch: the callee never hears of the deadline (the call's signal still ends our side).
    return (await fetch(`${shared.callee}/post`)).status;
  }
}

@Controller()
class CheckoutController {
  constructor(private readonly checkout: Checkout) {}
  @Get('checkout')
  run() {
    return this.checkout.propagated();
  }
}

@Module({
  imports: [ResilienceModule.forRoot({ metrics: { enabled: false } })],
  controllers: [CheckoutController],
  providers: [Checkout],
})
class CallerModule {}

for (const platform of PLATFORMS) {
  const other = platform === 'express' ? 'fastify' : 'express';
  describe(`a deadline across two real apps (callee on ${platform}, caller on ${other})`, () => {
    let dependency: Awaited<ReturnType<typeof failingDependency>>;
    let callee: Awaited<ReturnType<typeof startHttpApp>>;
    let caller: Awaited<ReturnType<typeof startHttpApp>>;

    before(async () => {
      dependency = await failingDependency();
      shared.dependency = dependency.url;
      callee = await startHttpApp(CalleeModule, platform);
      shared.callee = callee.url;
      caller = await startHttpApp(CallerModule, other);
    });
    after(async () => {
      await caller.app.close();
      await callee.app.close();
      await dependency.close();
    });

    /** Runs one checkout; returns the attempts the dependency saw after the caller's deadline, and in all. */
    async function measure(run: () => Promise<unknown>) {
      dependency.hits.length = 0;
      const started = Date.now();
      const outcome = await run().then(
        (value) => value,
        (error: unknown) => error,
      );
      const deadline = started + 200;
      // Let the callee finish whatever it still does (700 ms of retries at most).
      await new Promise((resolve) => setTimeout(resolve, 900));
      return {
        outcome,
        total: dependency.hits.length,
        late: dependency.hits.filter((at) => at > deadline + 40).length,
      };
    }

    it('propagated: the callee stops within the deadline and its dependency sees no attempt after it', async (t) => {
      const checkout = caller.app.get(Checkout);
      const withIt = await measure(() => checkout.propagated());
      const without = await measure(() => checkout.notPropagated());
      t.diagnostic(
        `dependency attempts: ${withIt.total} with the deadline propagated (${withIt.late} after it), ${without.total} without (${without.late} after it)`,
      );
      // The callee gives up when the next attempt cannot fit (its last error, 500) or is stopped at the deadline.
      assert.ok(
        withIt.outcome === 500 || withIt.outcome === 504 || withIt.outcome instanceof DeadlineExceededError,
        `${withIt.outcome}`,
      );
      assert.equal(withIt.late, 0, 'no attempt after the deadline');
      assert.ok(withIt.total >= 2 && withIt.total <= 7, `a few attempts fit in 200 ms: ${withIt.total}`);
      assert.ok(without.late >= 8, `without it the callee keeps retrying: ${without.late} late attempts`);
      assert.ok(without.outcome instanceof DeadlineExceededError, 'the caller itself still stops at its deadline');
    });

    it('through axios with the interceptor, the same', async () => {
      const checkout = caller.app.get(Checkout);
      const viaAxios = await measure(() => checkout.viaAxios());
      assert.equal(viaAxios.late, 0);
      assert.ok(viaAxios.total >= 2, `${viaAxios.total}`);
    });

    it('over HTTP: the callee sees what is left of the deadline in currentDeadline() and answers within it', async () => {
      shared.seenDeadline.length = 0;
      const started = Date.now();
      const response = await fetch(`${caller.url}/checkout`);
      const took = Date.now() - started;
      // The callee gave up (its last error, 500) or was stopped (504) within the deadline, or the
      // caller's own deadline came first (504 from the caller): never a late answer.
      const body = await response.text();
      assert.ok(response.status === 504 || ['500', '504'].includes(body), `${response.status} ${body}`);
      assert.ok(took < 400, `answered in ${took} ms`);
      const seen = shared.seenDeadline.filter((d): d is number => d !== undefined);
      assert.ok(seen.length >= 1 && seen[0] <= 200 && seen[0] > 0, `remaining in the callee: ${seen}`);
      await new Promise((resolve) => setTimeout(resolve, 300));
    });

    it('a request whose deadline has passed is refused with 504 before its handler runs', async () => {
      dependency.hits.length = 0;
      const response = await fetch(`${callee.url}/post`, {
        headers: { 'x-request-deadline': String(Date.now() - 10) },
      });
      assert.equal(response.status, 504);
      assert.equal(dependency.hits.length, 0);
      assert.equal(await response.text().then((body) => /deadline/i.test(body)), true, 'the body says why');
      const hostile = await fetch(`${callee.url}/post`, { headers: { 'x-request-timeout-ms': '-1' } });
      assert.equal(hostile.status, 500, 'a hostile value is ignored: the call runs (and its dependency fails)');
    });
  });
}
