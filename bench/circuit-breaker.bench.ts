import { ConsecutiveBreaker, circuitBreaker, handleAll, TimeoutStrategy, timeout } from 'cockatiel';
import Opossum from 'opossum';
import { CircuitBreakerPolicy } from '../lib/index.js';
import { check, formatTable, measure } from './harness.js';

const noop = () => {};
const work = async () => 1;
/** A realistic smallest I/O-like operation: it yields to the event loop once. */
const io = () => new Promise<number>((resolve) => setImmediate(resolve, 1));
const observe = [noop, noop] as const;
const failure = new Error('down');
const fail = async () => {
  throw failure;
};

export async function benchCircuitBreaker(): Promise<string> {
  // Closed success path.
  const ours = new CircuitBreakerPolicy('bench');
  const cockatiel = circuitBreaker(handleAll, { halfOpenAfter: 60_000, breaker: new ConsecutiveBreaker(5) });
  const opossum = new Opossum(work);

  // Rejection while OPEN.
  const oursOpen = new CircuitBreakerPolicy('open', { failureThreshold: 1, timeout: 3600 });
  await oursOpen.execute(fail).catch(noop);
  const cockatielOpen = circuitBreaker(handleAll, { halfOpenAfter: 3_600_000, breaker: new ConsecutiveBreaker(1) });
  await cockatielOpen.execute(fail).catch(noop);

  // Failure path: a rate-mode window holding 100,000 successes versus an empty one.
  const windowed = (name: string) =>
    new CircuitBreakerPolicy(name, {
      failureThreshold: Number.MAX_SAFE_INTEGER,
      failureRateThreshold: 100,
      minimumCalls: 5_000_000, // never reached here (and a rate above 100% never happens)
      slidingWindowSize: 5_000_000,
    });
  const fullWindow = windowed('full');
  for (let i = 0; i < 100_000; i++) await fullWindow.execute(work);
  const emptyWindow = windowed('empty');

  // Call timeout on the success path.
  const oursTimeout = new CircuitBreakerPolicy('timeout', { callTimeout: 10 });
  const cockatielTimeout = timeout(10_000, TimeoutStrategy.Cooperative);

  const results = await measure({
    'bare await fn()': async (n) => {
      for (let i = 0; i < n; i++) await work();
    },
    'ours: closed success': async (n) => {
      for (let i = 0; i < n; i++) await ours.execute(work);
    },
    'floor: p = fn(); p.then(shared handlers); await p': async (n) => {
      for (let i = 0; i < n; i++) {
        const p = work();
        p.then(...observe);
        await p;
      }
    },
    'bare await io() (one event-loop turn)': async (n) => {
      for (let i = 0; i < n / 10; i++) await io();
    },
    'ours: closed success, io()': async (n) => {
      for (let i = 0; i < n / 10; i++) await ours.execute(io);
    },
    'cockatiel ConsecutiveBreaker: closed success': async (n) => {
      for (let i = 0; i < n; i++) await cockatiel.execute(work);
    },
    'opossum (defaults): closed success': async (n) => {
      for (let i = 0; i < n / 10; i++) await opossum.fire();
    },
    'ours: rejection while open': async (n) => {
      for (let i = 0; i < n; i++) await oursOpen.execute(work).catch(noop);
    },
    'cockatiel: rejection while open': async (n) => {
      for (let i = 0; i < n; i++) await cockatielOpen.execute(work).catch(noop);
    },
    'ours: failure, empty window': async (n) => {
      for (let i = 0; i < n; i++) await emptyWindow.execute(fail).catch(noop);
    },
    'ours: failure, 100,000 successes in window': async (n) => {
      for (let i = 0; i < n; i++) await fullWindow.execute(fail).catch(noop);
    },
    'ours: success with callTimeout': async (n) => {
      for (let i = 0; i < n; i++) await oursTimeout.execute(work);
    },
    'cockatiel: cooperative timeout success': async (n) => {
      for (let i = 0; i < n; i++) await cockatielTimeout.execute(work);
    },
  });
  // opossum ran a tenth of the iterations: scale to per-operation.
  for (const name of [
    'opossum (defaults): closed success',
    'bare await io() (one event-loop turn)',
    'ours: closed success, io()',
  ]) {
    results[name].nsPerOp *= 10;
  }
  opossum.shutdown();

  const r = (name: string) => results[name];
  return formatTable('Circuit breaker (issue 3)', results, [
    check('closed success: ours / bare', r('ours: closed success'), r('bare await fn()'), 1.3),
    check(
      'closed success: ours / the floor of any wrapper that observes the outcome',
      r('ours: closed success'),
      r('floor: p = fn(); p.then(shared handlers); await p'),
      1.3,
    ),
    check(
      'closed success, io(): ours / bare',
      r('ours: closed success, io()'),
      r('bare await io() (one event-loop turn)'),
      1.3,
    ),
    check(
      'closed success: ours / cockatiel',
      r('ours: closed success'),
      r('cockatiel ConsecutiveBreaker: closed success'),
      0.6,
    ),
    check('closed success: ours / opossum', r('ours: closed success'), r('opossum (defaults): closed success'), 0.15),
    check('rejection: ours / cockatiel', r('ours: rejection while open'), r('cockatiel: rejection while open'), 0.25),
    check(
      'failure: full window / empty window',
      r('ours: failure, 100,000 successes in window'),
      r('ours: failure, empty window'),
      1.5,
    ),
    check(
      'callTimeout success: ours / cockatiel',
      r('ours: success with callTimeout'),
      r('cockatiel: cooperative timeout success'),
      0.1,
    ),
  ]);
}
