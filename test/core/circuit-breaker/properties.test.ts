import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CircuitBreakerPolicy, CircuitOpenError, ManualClock } from '../../../lib/index.js';

type Action = { kind: 'start' } | { kind: 'finish'; pick: number; fail: boolean } | { kind: 'advance'; ms: number };

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ kind: 'start' as const }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('finish' as const), pick: fc.nat(), fail: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 3000 }) }) },
);

const settle = () => new Promise((resolve) => setImmediate(resolve));

interface InFlight {
  epoch: number;
  admittedIn: string;
  resolve: () => void;
  reject: () => void;
  done: Promise<unknown>;
}

describe('circuit breaker invariants (fast-check)', () => {
  it('never has more than halfOpenMaxCalls trials in flight, and stale results never change state', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 3 }),
        fc.array(action, { maxLength: 60 }),
        async (halfOpenMaxCalls, failureThreshold, successThreshold, actions) => {
          const clock = new ManualClock(0);
          let epoch = 0;
          const cb = new CircuitBreakerPolicy('prop', {
            clock,
            timeout: 1,
            // A trial's lease running out starts a new round of trials (the old ones' results
            // then count for nothing): invisible to this property's epochs, so leases outlast it
            // here; the lease has tests of its own (half-open-lease.test.ts).
            halfOpenTrialTimeout: 3600,
            halfOpenMaxCalls,
            failureThreshold,
            successThreshold,
            onStateChange: () => {
              epoch++;
            },
          });
          const inFlight: InFlight[] = [];
          for (const step of actions) {
            if (step.kind === 'advance') clock.advance(step.ms);
            else if (step.kind === 'start') {
              let resolve!: () => void;
              let reject!: () => void;
              const call = new Promise<void>((res, rej) => {
                resolve = res;
                reject = () => rej(new Error('failed'));
              });
              const stateBefore = cb.state;
              const done = cb.execute(() => call).catch((e) => e);
              await settle();
              const rejected = (await Promise.race([done, Promise.resolve('pending')])) instanceof CircuitOpenError;
              if (!rejected) inFlight.push({ epoch, admittedIn: stateBefore, resolve, reject, done });
            } else if (inFlight.length > 0) {
              const [call] = inFlight.splice(step.pick % inFlight.length, 1);
              const [epochBefore, stateBefore] = [epoch, cb.state];
              if (step.fail) call.reject();
              else call.resolve();
              await call.done;
              await settle();
              if (call.epoch !== epochBefore) {
                assert.equal(epoch, epochBefore, 'a stale result changed the state');
                assert.equal(cb.state, stateBefore);
              }
            }
            if (cb.state === 'half_open') {
              const trials = inFlight.filter((c) => c.epoch === epoch && c.admittedIn === 'half_open').length;
              assert.ok(trials <= halfOpenMaxCalls, `${trials} trials in flight, max ${halfOpenMaxCalls}`);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('admits exactly halfOpenMaxCalls of 10,000 concurrent calls against a half-open breaker', async () => {
    for (const halfOpenMaxCalls of [1, 5]) {
      const clock = new ManualClock(0);
      const cb = new CircuitBreakerPolicy('stampede', { clock, failureThreshold: 1, timeout: 1, halfOpenMaxCalls });
      await cb.execute(() => Promise.reject(new Error('down'))).catch(() => {});
      clock.advance(1000);
      let executed = 0;
      let release!: () => void;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      const calls = Array.from({ length: 10_000 }, () =>
        cb.execute(async () => {
          executed++;
          await gate;
          return 'ok';
        }),
      );
      const early = await Promise.race([Promise.allSettled(calls.slice(halfOpenMaxCalls)), settle()]);
      assert.ok(Array.isArray(early), 'the rejected calls settle without waiting for the trials');
      release();
      const results = await Promise.allSettled(calls);
      assert.equal(executed, halfOpenMaxCalls);
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, halfOpenMaxCalls);
      assert.ok(
        results.filter((r) => r.status === 'rejected').every((r) => r.reason instanceof CircuitOpenError),
        'every other call is rejected with CircuitOpenError',
      );
    }
  });
});
