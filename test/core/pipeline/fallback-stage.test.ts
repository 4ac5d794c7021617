import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CircuitBreakerPolicy,
  CircuitOpenError,
  circuitBreakerStage,
  compose,
  createContext,
  fallbackStage,
  RetryPolicy,
  retryStage,
} from '../../../lib/core/index.js';

const failing = (message: string) => () => Promise.reject(Object.assign(new Error(message), { status: 503 }));

describe('the fallback stage (outermost)', () => {
  it('answers with the handler’s result, given the error and the call’s arguments, after the retries', async () => {
    const retry = new RetryPolicy({ maxAttempts: 3, baseDelay: 0, jitter: false, sleep: async () => {} });
    let attempts = 0;
    const seen: unknown[] = [];
    const uses: string[] = [];
    const run = compose([
      retryStage(retry),
      fallbackStage({
        fallback: (error, args) => {
          seen.push((error as Error).message, args);
          return 'cached price';
        },
        onFallback: (outcome) => uses.push(outcome),
      }),
    ]);
    const value = await run(
      createContext(() => {
        attempts++;
        return failing('pricing down')();
      }, ['sku-1']),
    );
    assert.equal(value, 'cached price');
    assert.equal(attempts, 3, 'the retries ran first');
    assert.deepEqual(seen, ['pricing down', ['sku-1']]);
    assert.deepEqual(uses, ['answered']);
  });

  it('answers for a refusal too (an open breaker), and only for the errors `handle` names', async () => {
    const breaker = new CircuitBreakerPolicy('dep', { failureThreshold: 1 });
    const onlyOpen = compose([
      circuitBreakerStage(breaker),
      fallbackStage({ fallback: () => 'stale', handle: [CircuitOpenError] }),
    ]);
    await assert.rejects(onlyOpen(createContext(failing('first failure'))), /first failure/, 'not handled: passes');
    assert.equal(await onlyOpen(createContext(failing('never runs'))), 'stale', 'the open breaker’s refusal is');
  });

  it('a fallback that fails reaches the caller as itself, with the call’s error as its cause', async () => {
    const uses: string[] = [];
    const run = compose([
      fallbackStage({
        fallback: async () => {
          throw new Error('the cache is down too');
        },
        onFallback: (outcome) => uses.push(outcome),
      }),
    ]);
    await assert.rejects(run(createContext(failing('pricing down'))), (error: Error) => {
      assert.equal(error.message, 'the cache is down too');
      assert.equal((error.cause as Error).message, 'pricing down');
      return true;
    });
    const synchronous = compose([
      fallbackStage({
        fallback: () => {
          throw new TypeError('bad fallback');
        },
      }),
    ]);
    await assert.rejects(
      synchronous(createContext(failing('x'))),
      (error: Error) => (error.cause as Error).message === 'x',
    );
    assert.deepEqual(uses, ['failed']);
  });

  it('a success passes through untouched', async () => {
    const run = compose([fallbackStage({ fallback: () => 'never' })]);
    assert.equal(await run(createContext(() => Promise.resolve('fresh'))), 'fresh');
  });
});
