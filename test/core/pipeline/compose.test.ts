import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  CircuitBreakerPolicy,
  CircuitOpenError,
  circuitBreakerStage,
  compose,
  createContext,
  DeadLetterQueue,
  ManualClock,
  orderWith,
  RateLimitExceededError,
  RateLimiter,
  ResiliencePipeline,
  RetryPolicy,
  STAGE_ORDER,
  type Stage,
} from '../../../lib/core/index.js';

const noWait = async () => {};

/** A stage that logs when a call enters and leaves it. */
function tracer(kind: string, log: string[]): Stage {
  return {
    kind,
    failures: 'reports-own',
    wrap: (next) => async (context) => {
      log.push(`>${kind}`);
      try {
        return await next(context);
      } finally {
        log.push(`<${kind}`);
      }
    },
  };
}

function parts(clock = new ManualClock(0)) {
  return {
    clock,
    rateLimiter: new RateLimiter({ name: 'r', rate: 2, per: 60, clock }),
    circuitBreaker: new CircuitBreakerPolicy('c', { failureThreshold: 2, timeout: 60, clock }),
    retry: new RetryPolicy({ maxAttempts: 3, baseDelay: 0, jitter: false, sleep: noWait, clock }),
    deadLetter: new DeadLetterQueue({ name: 'q', clock }),
  };
}

describe('compose: the order is data', () => {
  it('runs the stages in the guide order whatever order they are given in', async () => {
    const log: string[] = [];
    const stages = [...STAGE_ORDER].reverse().map((kind) => tracer(kind, log));
    const run = compose(stages);
    await run(createContext(() => log.push('operation')));
    assert.deepEqual(log, [
      '>fallback',
      '>deadline',
      '>rate_limit',
      '>coalesce',
      '>dead_letter',
      '>circuit_breaker',
      '>timeout',
      '>hedge',
      '>retry',
      '>attempt_timeout',
      '>bulkhead',
      '>chaos',
      'operation',
      '<chaos',
      '<bulkhead',
      '<attempt_timeout',
      '<retry',
      '<hedge',
      '<timeout',
      '<circuit_breaker',
      '<dead_letter',
      '<coalesce',
      '<rate_limit',
      '<deadline',
      '<fallback',
    ]);
  });

  it('takes another order, and refuses a kind outside it or given twice', async () => {
    const log: string[] = [];
    const run = compose([tracer('a', log), tracer('b', log)], ['b', 'a']);
    await run(createContext(() => log.push('op')));
    assert.deepEqual(log, ['>b', '>a', 'op', '<a', '<b']);
    assert.throws(
      () => compose([tracer('bulk', log)]),
      /stage kind "bulk" is not in the order \[fallback, deadline, rate_limit/,
    );
    assert.throws(() => compose([tracer('retry', log), tracer('retry', log)]), /two stages of kind "retry"/);
  });

  it('turns a synchronous throw of the operation into a rejection', async () => {
    const run = compose([]);
    const promise = run(
      createContext(() => {
        throw new Error('sync');
      }),
    );
    await assert.rejects(promise, /sync/);
  });
});

describe('ResiliencePipeline: the guide stack from nest-resilience/core alone', () => {
  it('keeps one letter per failed call, after its last attempt, with every attempt in its history', async () => {
    const p = parts();
    const pipeline = new ResiliencePipeline(p);
    let calls = 0;
    const charge = async (amount: number) => {
      calls++;
      throw new Error(`declined ${amount}`);
    };
    await assert.rejects(pipeline.call(charge, 42), /declined 42/);
    assert.equal(calls, 3);
    const letters = await p.deadLetter.peek(10);
    assert.equal(letters.length, 1);
    assert.equal(letters[0].reason, 'failed');
    assert.deepEqual(letters[0].args, [42]);
    assert.deepEqual(
      letters[0].history.map((h) => h.attempt),
      [1, 2, 3],
    );
  });

  it('keeps a call the open breaker turned away with reason circuit_open and no attempts, from the context', async () => {
    const p = parts();
    const pipeline = new ResiliencePipeline({ ...p, rateLimiter: undefined });
    p.circuitBreaker.forceOpen();
    let ran = false;
    await assert.rejects(
      pipeline.call(async () => {
        ran = true;
      }),
      CircuitOpenError,
    );
    assert.equal(ran, false);
    const [letter] = await p.deadLetter.peek(1);
    assert.equal(letter.reason, 'circuit_open');
    assert.equal(letter.attempts, 0);
  });

  it('does not guess: a CircuitOpenError thrown by the operation itself (a breaker further down) is a failure', async () => {
    const p = parts();
    const pipeline = new ResiliencePipeline({ deadLetter: p.deadLetter, circuitBreaker: p.circuitBreaker });
    await assert.rejects(
      pipeline.call(async () => {
        throw CircuitOpenError.stackless('downstream', 5);
      }),
      CircuitOpenError,
    );
    const [letter] = await p.deadLetter.peek(1);
    assert.equal(letter.reason, 'failed');
    assert.equal(letter.attempts, 1);
  });

  it('turns excess calls away before any other stage, keeping no letter for them', async () => {
    const p = parts();
    const pipeline = new ResiliencePipeline(p);
    assert.equal(await pipeline.call(async () => 'a'), 'a');
    assert.equal(await pipeline.call(async () => 'b'), 'b');
    await assert.rejects(
      pipeline.call(async () => 'c'),
      RateLimitExceededError,
    );
    assert.equal(await p.deadLetter.size(), 0);
  });

  it('the breaker sees one outcome per call: the retries inside it', async () => {
    const p = parts();
    const pipeline = new ResiliencePipeline({ ...p, rateLimiter: undefined });
    const fail = async () => {
      throw new Error('down');
    };
    await assert.rejects(pipeline.call(fail));
    assert.equal(p.circuitBreaker.state, 'closed', 'three failed attempts are one failed call');
    await assert.rejects(pipeline.call(fail));
    assert.equal(p.circuitBreaker.state, 'open');
    assert.equal(await p.deadLetter.size(), 2);
  });

  it('with a breaker fallback, a call the fallback answered is no dead letter', async () => {
    const clock = new ManualClock(0);
    const queue = new DeadLetterQueue({ name: 'q', clock });
    const breaker = new CircuitBreakerPolicy('c', { failureThreshold: 1, fallback: () => 'cached', clock });
    const retry = new RetryPolicy({ maxAttempts: 2, baseDelay: 0, jitter: false, sleep: noWait, clock });
    const pipeline = new ResiliencePipeline({ circuitBreaker: breaker, retry, deadLetter: queue });
    const result = await pipeline.call(async () => {
      throw new Error('down');
    });
    assert.equal(result, 'cached');
    assert.equal(await pipeline.call(async () => 'never runs'), 'cached');
    assert.equal(await queue.size(), 0);
  });

  it('rethrow: false answers undefined once the letter is kept; a letter that cannot be kept still fails the call', async () => {
    const clock = new ManualClock(0);
    const queue = new DeadLetterQueue({ name: 'q', clock });
    const retry = new RetryPolicy({ maxAttempts: 2, baseDelay: 0, jitter: false, sleep: noWait, clock });
    const pipeline = new ResiliencePipeline({ retry, deadLetter: { queue, rethrow: false } });
    assert.equal(
      await pipeline.call(async () => {
        throw new Error('x');
      }),
      undefined,
    );
    assert.equal((await queue.peek(1))[0].attempts, 2);
    const reported: unknown[] = [];
    const broken = new DeadLetterQueue({ name: 'broken', clock, maxMessageSize: 10 });
    const strict = new ResiliencePipeline({
      retry,
      deadLetter: { queue: broken, rethrow: false, onStoreError: (e) => reported.push(e) },
    });
    await assert.rejects(
      strict.call(async (_big: string) => {
        throw new Error('y');
      }, 'x'.repeat(100)),
      /y/,
    );
    assert.equal(reported.length, 1);
  });

  it('keeps the letter before the caller sees the error', async () => {
    const p = parts();
    const pipeline = new ResiliencePipeline({ retry: p.retry, deadLetter: p.deadLetter });
    const error = await pipeline
      .call(async () => {
        throw new Error('late');
      })
      .catch((e: unknown) => e);
    assert.match(String(error), /late/);
    assert.equal(await p.deadLetter.size(), 1);
  });

  it('a rejection nobody handles still reaches unhandledRejection (a real child process)', () => {
    const core = new URL('../../../lib/core/index.js', import.meta.url).href;
    const script = `
      const c = await import(${JSON.stringify(core)});
      process.on('unhandledRejection', (e) => { console.log('reported: ' + e.message); process.exit(0); });
      const clock = new c.ManualClock(0);
      const pipeline = new c.ResiliencePipeline({
        rateLimiter: new c.RateLimiter({ rate: 10, per: 1, clock }),
        circuitBreaker: new c.CircuitBreakerPolicy('u', { clock }),
        retry: new c.RetryPolicy({ maxAttempts: 2, baseDelay: 0, sleep: async () => {}, clock }),
        deadLetter: new c.DeadLetterQueue({ name: 'u', clock }),
      });
      void pipeline.call(async () => { throw new Error('nobody listens'); });
      setTimeout(() => { console.log('vanished'); process.exit(1); }, 2000);
    `;
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.match(output, /reported: nobody listens/);
  });

  it('the breaker callTimeout aborts the signal the operation gets through its context', async () => {
    const breaker = new CircuitBreakerPolicy('t', { callTimeout: 0.02 });
    const pipeline = compose([circuitBreakerStage(breaker)]);
    let signal: AbortSignal | undefined;
    const promise = pipeline(
      createContext(
        (context) =>
          new Promise((_resolve, reject) => {
            signal = context.signal;
            context.signal?.addEventListener('abort', () => reject(new Error('aborted')));
          }),
      ),
    );
    await assert.rejects(promise, /timed out|timeout/i);
    assert.equal(signal?.aborted, true);
  });
});

describe('the core is framework-free', () => {
  it('no file under lib/core imports Nest or the Nest layer', () => {
    const here = dirname(fileURLToPath(import.meta.url));
    const core = join(here, '../../../lib/core');
    const files = readdirSync(core, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js'));
    assert.ok(files.length > 20);
    for (const file of files) {
      const text = readFileSync(join(core, file), 'utf8');
      assert.doesNotMatch(text, /from '@nestjs|from '\.\.\/\.\.\/nest|from '\.\.\/nest|require\('@nestjs/, file);
    }
  });
});

describe('orderWith: kinds defined outside the core', () => {
  it('places each kind beside its anchor, chains of new kinds included', () => {
    const order = orderWith([
      { kind: 'b', after: 'a' },
      { kind: 'a', before: 'retry' },
    ]);
    const at = (kind: string) => order.indexOf(kind);
    // 'a' directly outside the retry, then 'b' directly inside 'a': a, b, retry.
    assert.equal(at('b'), at('a') + 1);
    assert.equal(at('retry'), at('b') + 1);
    assert.equal(order.length, STAGE_ORDER.length + 2);
  });

  it('an unknown anchor, or none, is an error naming it', () => {
    assert.throws(() => orderWith([{ kind: 'x', after: 'nowhere' }]), /"nowhere" is not in the order/);
    assert.throws(() => orderWith([{ kind: 'x' }]), /needs a place/);
  });
});
