import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BulkheadPolicy, BulkheadRejectedError, type Criticality, parseCriticality } from '../../../lib/core/index.js';
import { TimedClock } from '../../support/timed-clock.js';

/**
 * Offers `load` x the bulkhead's capacity for `seconds`, every tenth call critical for `critical`
 * tenths and sheddable for the rest; each call holds its slot 20 ms. Returns the share served of each class.
 */
async function overload(classes: boolean, seconds = 2, slots = 10, criticalTenths = 3) {
  const clock = new TimedClock();
  const serviceMs = 20;
  const bulkhead = new BulkheadPolicy('payments', {
    maxConcurrent: slots,
    maxQueue: 2 * slots,
    queueTimeout: 1,
    clock,
  });
  const capacityPerMs = slots / serviceMs;
  const gapMs = 1 / (3 * capacityPerMs); // 3x capacity
  const served = { critical: 0, sheddable: 0 };
  const offered = { critical: 0, sheddable: 0 };
  const calls: Promise<void>[] = [];
  const work = () => new Promise<void>((resolve) => clock.timers.setTimeout(resolve, serviceMs));
  let next = 0;
  for (let i = 0; next < seconds * 1000; i++, next += gapMs) {
    await clock.advance(next - clock.now());
    const kind: 'critical' | 'sheddable' = i % 10 < criticalTenths ? 'critical' : 'sheddable';
    offered[kind]++;
    const criticality: Criticality | undefined = classes ? kind : undefined;
    calls.push(
      bulkhead.execute(work, undefined, undefined, criticality).then(
        () => {
          served[kind]++;
        },
        (error: unknown) => assert.ok(error instanceof BulkheadRejectedError),
      ),
    );
  }
  await clock.advance(2000);
  await Promise.all(calls);
  return { critical: served.critical / offered.critical, sheddable: served.sheddable / offered.sheddable };
}

describe('criticality in a saturated bulkhead', () => {
  it('3x capacity, 70% sheddable and 30% critical: critical served >= 99%, sheddable absorbs the loss', async (t) => {
    const withClasses = await overload(true);
    const without = await overload(false);
    const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
    t.diagnostic(
      `classes on: critical ${pct(withClasses.critical)}, sheddable ${pct(withClasses.sheddable)}; off: critical ${pct(without.critical)}, sheddable ${pct(without.sheddable)}`,
    );
    assert.ok(withClasses.critical >= 0.99, pct(withClasses.critical));
    assert.ok(withClasses.sheddable < 0.2, `sheddable gets what is left: ${pct(withClasses.sheddable)}`);
    // Off: both lose alike (within a few points).
    assert.ok(
      Math.abs(without.critical - without.sheddable) < 0.05,
      `${pct(without.critical)} vs ${pct(without.sheddable)}`,
    );
    assert.ok(without.critical < 0.5);
  });

  it('holds across scales and mixes: 2, 10 and 50 slots, 10%, 30% and 50% critical, at 3x capacity', async (t) => {
    const rows: string[] = [];
    for (const slots of [2, 10, 50]) {
      for (const tenths of [1, 3, 5]) {
        const served = await overload(true, 1, slots, tenths);
        rows.push(
          `${slots} slots, ${tenths * 10}% critical: critical ${(served.critical * 100).toFixed(1)}%, sheddable ${(served.sheddable * 100).toFixed(1)}%`,
        );
        // Critical demand is 3 x tenths/10 of the capacity: all of it when it fits, else the whole capacity.
        const share = Math.min(1, 1 / (3 * (tenths / 10)));
        assert.ok(served.critical >= 0.99 * share, rows.at(-1));
        // Sheddable calls get what critical ones leave, never more than their share of the rest.
        const left = Math.max(0, 1 - 3 * (tenths / 10));
        assert.ok(served.sheddable <= left / (3 * (1 - tenths / 10)) + 0.02, rows.at(-1));
      }
    }
    t.diagnostic(rows.join('; '));
  });

  it('the most important waiter is admitted first; a full queue evicts the least important below the arrival', async () => {
    const clock = new TimedClock();
    const bulkhead = new BulkheadPolicy('b', { maxConcurrent: 1, maxQueue: 2, queueTimeout: 10, clock });
    const rejected: (Criticality | undefined)[] = [];
    bulkhead.onRejected(({ criticality }) => rejected.push(criticality));
    const order: string[] = [];
    let release!: () => void;
    const holding = bulkhead.execute(() => new Promise<void>((resolve) => (release = resolve)));
    const run = (label: string, criticality?: Criticality) =>
      bulkhead
        .execute(async () => order.push(label), undefined, undefined, criticality)
        .catch((e) => {
          order.push(`${label} refused`);
          assert.ok(e instanceof BulkheadRejectedError);
        });
    const waits = [run('sheddable', 'sheddable'), run('sheddable_plus', 'sheddable_plus')];
    // The queue is full: a critical arrival turns the sheddable one away; another sheddable is refused.
    waits.push(run('critical', 'critical'), run('late sheddable', 'sheddable'));
    await clock.advance(0);
    release();
    await holding;
    await Promise.all(waits);
    assert.deepEqual(order, ['sheddable refused', 'late sheddable refused', 'critical', 'sheddable_plus']);
    assert.deepEqual(rejected, ['sheddable', 'sheddable']);
  });

  it('parses the spellings callers use, and nothing else', () => {
    assert.equal(parseCriticality('CRITICAL_PLUS'), 'critical_plus');
    assert.equal(parseCriticality('sheddable-plus'), 'sheddable_plus');
    assert.equal(parseCriticality(' critical '), 'critical');
    for (const bad of ['urgent', '', 'critical_plus_plus', ['critical'], 3, undefined]) {
      assert.equal(parseCriticality(bad), undefined, JSON.stringify(bad));
    }
  });
});
