import { fallback, handleAll, TimeoutStrategy, timeout } from 'cockatiel';
import {
  coalesceStage,
  compose,
  createContext,
  fallbackStage,
  hedgeStage,
  type Next,
  type ResilienceContext,
  timeoutStage,
} from '../lib/core/index.js';
import { check, formatTable, measure } from './harness.js';

const noop = () => {};
const work = async () => 1;
const observe = [noop, noop] as const;
const operation = (_context: ResilienceContext) => work();

/** One call through a composed pipeline, as the Nest layer makes it: a context per call. */
function runner(next: Next): (n: number) => Promise<void> {
  return async (n) => {
    for (let i = 0; i < n; i++) await next(createContext(operation, [i]));
  };
}

/**
 * Issue 33's success paths: timeout, fallback, a hedge that never fires, coalescing of calls
 * that never overlap, each one stage composed alone, against the floor of any wrapper that
 * observes the outcome and against cockatiel's timeout() and fallback().
 */
export async function benchPatterns(): Promise<string> {
  const timed = compose([timeoutStage({ timeout: 10 })]);
  const fallen = compose([fallbackStage({ fallback: () => 0 })]);
  const hedged = compose([hedgeStage({ delay: 10 })]);
  const coalesced = compose([coalesceStage({ key: (context) => String(context.args[0]) })]);
  const composedNone = compose([]);
  const cockatielTimeout = timeout(10_000, TimeoutStrategy.Cooperative);
  const cockatielFallback = fallback(handleAll, 0);

  const results = await measure({
    'bare await fn()': async (n) => {
      for (let i = 0; i < n; i++) await work();
    },
    'floor: p = fn(); p.then(shared handlers); await p': async (n) => {
      for (let i = 0; i < n; i++) {
        const p = work();
        p.then(...observe);
        await p;
      }
    },
    'compose([]): a context per call, no stage': runner(composedNone),
    'ours: timeout (10 s) success': runner(timed),
    'cockatiel: cooperative timeout success': async (n) => {
      for (let i = 0; i < n; i++) await cockatielTimeout.execute(work);
    },
    'ours: fallback success': runner(fallen),
    'cockatiel: fallback success': async (n) => {
      for (let i = 0; i < n; i++) await cockatielFallback.execute(work);
    },
    'ours: hedge (10 s) that never fires': runner(hedged),
    'ours: coalesce, no overlapping call': runner(coalesced),
  });
  const r = (name: string) => results[name];
  const floor = r('compose([]): a context per call, no stage');
  return formatTable('Timeout, fallback, hedging, coalescing (issue 33)', results, [
    check('timeout success: ours / compose([]) floor', r('ours: timeout (10 s) success'), floor, 1.1),
    check('fallback success: ours / compose([]) floor', r('ours: fallback success'), floor, 1.1),
    check(
      'timeout success: ours / cockatiel',
      r('ours: timeout (10 s) success'),
      r('cockatiel: cooperative timeout success'),
      0.5,
    ),
    check('fallback success: ours / cockatiel', r('ours: fallback success'), r('cockatiel: fallback success'), 0.5),
    check('hedge never firing: ours / compose([]) floor', r('ours: hedge (10 s) that never fires'), floor, 2),
    check('coalesce, alone: ours / compose([]) floor', r('ours: coalesce, no overlapping call'), floor, 2),
  ]);
}
