import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import {
  CircuitBreakerPolicy,
  CircuitOpenError,
  DeadLetterQueue,
  EventSource,
  ManualClock,
  RateLimitExceededError,
  RateLimiter,
  RetryPolicy,
} from '../../lib/core/index.js';

const noWait = async () => {};

describe('typed events, subscribed at any time', () => {
  it('a retry policy tells listeners that subscribed after it was created; unsubscribing stops them', async () => {
    const policy = new RetryPolicy({ maxAttempts: 3, baseDelay: 0, jitter: false, sleep: noWait });
    const outcomes: { attempts: number; succeeded: boolean }[] = [];
    const retries: number[] = [];
    const stop = policy.onComplete((outcome) => outcomes.push(outcome));
    policy.onRetry((event) => retries.push(event.attempt));
    let calls = 0;
    assert.equal(
      await policy.execute(async () => {
        if (++calls < 2) throw new Error('once');
        return 'ok';
      }),
      'ok',
    );
    await policy.execute(async () => 'first try');
    await assert.rejects(
      policy.execute(async () => {
        throw new Error('always');
      }),
    );
    assert.deepEqual(outcomes, [
      { attempts: 2, succeeded: true },
      { attempts: 1, succeeded: true },
      { attempts: 3, succeeded: false },
    ]);
    assert.deepEqual(retries, [2, 2, 3]);
    stop();
    await policy.execute(async () => 'unheard');
    assert.equal(outcomes.length, 3);
  });

  it('a breaker tells state changes, outcomes and rejections through its events', async () => {
    const breaker = new CircuitBreakerPolicy('events', { failureThreshold: 1 });
    const seen: string[] = [];
    breaker.onSuccess(() => seen.push('success'));
    breaker.onFailure(({ error }) => seen.push(`failure ${(error as Error).message}`));
    breaker.onStateChange(({ from, to }) => seen.push(`${from}->${to}`));
    breaker.onRejection(({ name }) => seen.push(`rejected ${name}`));
    await breaker.execute(async () => 1);
    await assert.rejects(
      breaker.execute(async () => {
        throw new Error('down');
      }),
    );
    await assert.rejects(
      breaker.execute(async () => 1),
      CircuitOpenError,
    );
    assert.deepEqual(seen, ['success', 'failure down', 'closed->open', 'rejected events']);
  });

  it('a listener that throws changes nothing for the call or the other listeners, and is reported', async () => {
    const source = new EventSource<number>();
    const got: number[] = [];
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    source.event(() => {
      throw new Error('bad listener');
    });
    source.event((n) => got.push(n));
    source.emit(7);
    await new Promise((resolve) => setImmediate(resolve));
    process.off('warning', onWarning);
    assert.deepEqual(got, [7]);
    assert.ok(warnings.some((w) => /bad listener/.test(w)));
    const policy = new RetryPolicy({ maxAttempts: 1 });
    policy.onComplete(() => {
      throw new Error('also bad');
    });
    assert.equal(await policy.execute(async () => 'still ok'), 'still ok');
  });

  it('a rate limiter tells one decision per call: consume, acquire, and a waiting call once, after its wait', async () => {
    const clock = new ManualClock(0);
    const limiter = new RateLimiter({ name: 'api', rate: 1, per: 10, clock });
    const seen: string[] = [];
    const stop = limiter.onDecision(({ limiter: name, allowed }) => seen.push(`${name} ${allowed}`));
    assert.equal((await limiter.consume('k')).allowed, true);
    assert.equal((await limiter.consume('k')).allowed, false);
    await assert.rejects(limiter.acquire('k'), RateLimitExceededError);
    await limiter.check('k');
    assert.deepEqual(seen, ['api true', 'api false', 'api false'], 'check decides nothing');
    // tryDecideSync is silent: its caller reports once it has read the shared decision.
    const decision = limiter.tryDecideSync('other');
    assert.equal(seen.length, 3);
    limiter.recordDecision(decision?.allowed === true);
    assert.deepEqual(seen.slice(3), ['api true']);
    // 'wait' mode: the tries while waiting are one decision, told when the call is admitted.
    const sleeps: number[] = [];
    const waiting = new RateLimiter({
      name: 'slow',
      rate: 1,
      per: 1,
      mode: 'wait',
      clock,
      sleep: async (ms) => {
        sleeps.push(ms);
        clock.advance(ms);
      },
    });
    const told: boolean[] = [];
    waiting.onDecision(({ allowed }) => told.push(allowed));
    await waiting.acquire('k');
    await waiting.acquire('k');
    assert.ok(sleeps.length >= 1, 'the second call waited');
    assert.deepEqual(told, [true, true]);
    stop();
    await limiter.consume('z');
    assert.equal(seen.length, 4);
  });

  it('a dead-letter queue tells added, alert, replayed and recovered through typed events; a throwing listener loses nothing', async () => {
    const queue = new DeadLetterQueue({ name: 'orders', alertThreshold: 2 });
    const seen: string[] = [];
    queue.onAdded(() => {
      throw new Error('a broken listener');
    });
    queue.onAdded((letter) => seen.push(`added ${letter.queue}`));
    queue.onAlert(({ size, threshold }) => seen.push(`alert ${size}/${threshold}`));
    queue.onReplayed(({ succeeded }) => seen.push(`replayed ${succeeded}`));
    queue.onRecovered(({ size }) => seen.push(`recovered ${size}`));
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    const first = await queue.add({ args: [1], error: new Error('x') });
    await queue.add({ args: [2], error: new Error('y') });
    await new Promise((resolve) => setImmediate(resolve));
    process.off('warning', onWarning);
    assert.equal(await queue.size(), 2, 'both letters stored although a listener threw');
    assert.ok(warnings.some((w) => /a broken listener/.test(w)));
    await queue.replay(async () => 'ok', { id: first.id, ratePerSecond: 1000 });
    assert.deepEqual(seen, ['added orders', 'added orders', 'alert 2/2', 'replayed true', 'recovered 1']);
  });

  it("a dead-letter queue's named listeners (on, once, off) hear each event once, through the typed events; one that throws fails no add", async () => {
    const queue = new DeadLetterQueue({ name: 'named' });
    assert.equal(queue instanceof EventEmitter, false, 'one event model: no EventEmitter beside the typed events');
    const heard: string[] = [];
    const always = (letter: { id: string }) => heard.push(`on ${letter.id}`);
    queue.on('added', always);
    queue.once('added', (letter) => heard.push(`once ${letter.id}`));
    queue.onAdded((letter) => heard.push(`typed ${letter.id}`));
    queue.on('added', () => {
      throw new Error('a broken named listener');
    });
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    // Before: the queue re-emitted on an EventEmitter, whose throwing listener rejected add() after the letter was stored.
    const first = await queue.add({ args: [1], error: new Error('x') });
    const second = await queue.add({ args: [2], error: new Error('y') });
    queue.off('added', always);
    const third = await queue.add({ args: [3], error: new Error('z') });
    await new Promise((resolve) => setImmediate(resolve));
    process.off('warning', onWarning);
    assert.deepEqual(heard, [
      `on ${first.id}`,
      `once ${first.id}`,
      `typed ${first.id}`,
      `on ${second.id}`,
      `typed ${second.id}`,
      `typed ${third.id}`,
    ]);
    assert.equal(await queue.size(), 3);
    assert.equal(warnings.filter((w) => /a broken named listener/.test(w)).length, 3);
  });

  it("a breaker's listener objects and typed events are one path: each hears an event once, in the order subscribed", async () => {
    const breaker = new CircuitBreakerPolicy('one-path', { failureThreshold: 1 });
    const seen: string[] = [];
    const stop = breaker.subscribe({
      onFailure: (name) => seen.push(`object failure ${name}`),
      onStateChange: (from, to) => seen.push(`object ${from}->${to}`),
    });
    breaker.onStateChange(({ from, to }) => seen.push(`typed ${from}->${to}`));
    await assert.rejects(breaker.execute(() => Promise.reject(new Error('down'))));
    stop();
    breaker.reset();
    assert.deepEqual(seen, [
      'object failure one-path',
      'object closed->open',
      'typed closed->open',
      'typed open->closed',
    ]);
  });
});
