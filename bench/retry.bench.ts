import { handleAll, retry } from 'cockatiel';
import { RetryPolicy } from '../lib/index.js';
import { check, formatTable, measure } from './harness.js';

const work = async () => 1;
const noop = () => {};
/** A realistic smallest I/O-like operation: it yields to the event loop once. */
const io = () => new Promise<number>((resolve) => setImmediate(resolve, 1));

export async function benchRetry(): Promise<string> {
  const ours = new RetryPolicy({ maxAttempts: 3 });
  const cockatiel = retry(handleAll, { maxAttempts: 3 });
  const results = await measure({
    'bare await fn()': async (n) => {
      for (let i = 0; i < n; i++) await work();
    },
    'ours: RetryPolicy success': async (n) => {
      for (let i = 0; i < n; i++) await ours.execute(work);
    },
    'cockatiel retry(handleAll, { maxAttempts: 3 }) success': async (n) => {
      for (let i = 0; i < n; i++) await cockatiel.execute(work);
    },
    'floor: await fn().catch(shared handler)': async (n) => {
      for (let i = 0; i < n; i++) await work().catch(noop);
    },
    'bare await io() (one event-loop turn)': async (n) => {
      for (let i = 0; i < n / 10; i++) await io();
    },
    'ours: RetryPolicy success, io()': async (n) => {
      for (let i = 0; i < n / 10; i++) await ours.execute(io);
    },
  });
  for (const name of ['bare await io() (one event-loop turn)', 'ours: RetryPolicy success, io()'])
    results[name].nsPerOp *= 10;
  const r = (name: string) => results[name];
  return formatTable('Retry (issue 4)', results, [
    check('success: ours / bare', r('ours: RetryPolicy success'), r('bare await fn()'), 1.3),
    check(
      'success: ours / the floor of any wrapper that can replace a rejection',
      r('ours: RetryPolicy success'),
      r('floor: await fn().catch(shared handler)'),
      1.3,
    ),
    check(
      'success, io(): ours / bare',
      r('ours: RetryPolicy success, io()'),
      r('bare await io() (one event-loop turn)'),
      1.3,
    ),
    check(
      'success: ours / cockatiel',
      r('ours: RetryPolicy success'),
      r('cockatiel retry(handleAll, { maxAttempts: 3 }) success'),
      0.7,
    ),
  ]);
}
