import assert from 'node:assert/strict';
import { it } from 'node:test';
import { type DeadLetterBackend, DeadLetterQueue, ManualClock } from '../../lib/index.js';

/**
 * The contract every dead-letter backend passes. `make` gives a fresh, empty backend
 * (and may be called again to reopen the same storage when `reopen` is true).
 */
export function deadLetterContract(make: () => Promise<DeadLetterBackend>, options: { reopen?: boolean } = {}): void {
  const queue = async (clock = new ManualClock(Date.parse('2026-11-28T00:00:00Z'))) => {
    const backend = await make();
    await backend.purge();
    return {
      q: new DeadLetterQueue({
        name: 'orders',
        backend,
        clock,
        maxRetryAttempts: 2,
        retentionDays: 7,
        alertThreshold: 3,
      }),
      clock,
      backend,
    };
  };

  it('adds, gets, counts and deletes letters, oldest first', async () => {
    const { q, clock } = await queue();
    const a = await q.add({
      args: [{ order: 1 }],
      error: new Error('boom'),
      source: { service: 'orders', className: 'Orders', method: 'place' },
    });
    clock.advance(1000);
    const b = await q.add({
      args: [{ order: 2 }],
      error: Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }),
      reason: 'circuit_open',
    });
    assert.equal(await q.size(), 2);
    const got = await q.get(a.id);
    assert.deepEqual(got?.args, [{ order: 1 }]);
    assert.equal(got?.error.message, 'boom');
    assert.equal(got?.source.method, 'place');
    assert.deepEqual(
      (await q.peek()).map((l) => l.id),
      [a.id],
    );
    assert.equal(await q.oldestAge(), 1);
    assert.equal(await q.delete(a.id), true);
    assert.equal(await q.delete(a.id), false);
    assert.deepEqual(
      (await q.peek()).map((l) => l.id),
      [b.id],
    );
    assert.equal((await q.get(b.id))?.error.code, 'ECONNREFUSED');
    await q.close();
  });

  it('lists by page and filter', async () => {
    const { q, clock } = await queue();
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      ids.push(
        (
          await q.add({
            error: new Error(`e${i}`),
            source: { service: i % 2 ? 'odd' : 'even' },
            reason: i < 3 ? 'failed' : 'circuit_open',
          })
        ).id,
      );
      clock.advance(1000);
    }
    const first = await q.list({ limit: 3 });
    assert.deepEqual(
      first.items.map((l) => l.id),
      ids.slice(0, 3),
    );
    const second = await q.list({ limit: 3, cursor: first.next });
    assert.deepEqual(
      second.items.map((l) => l.id),
      ids.slice(3, 6),
    );
    const third = await q.list({ limit: 3, cursor: second.next });
    assert.deepEqual(
      third.items.map((l) => l.id),
      ids.slice(6),
    );
    assert.equal(third.next, undefined);
    assert.deepEqual(
      (await q.list({ filter: { service: 'odd' } })).items.map((l) => l.id),
      [ids[1], ids[3], ids[5]],
    );
    assert.deepEqual(
      (await q.list({ filter: { reason: 'failed', service: 'even' } })).items.map((l) => l.id),
      [ids[0], ids[2]],
    );
    assert.deepEqual(
      (await q.list({ filter: { olderThan: 5 } })).items.map((l) => l.id),
      ids.slice(0, 3),
      'at least 5 s old',
    );
    await q.close();
  });

  it('replays: success removes, failure counts, exhaustion marks and keeps', async () => {
    const { q } = await queue();
    const ok = await q.add({ args: ['ok'], error: new Error('x') });
    const bad = await q.add({ args: ['bad'], error: new Error('x'), attempts: 3 });
    const report = await q.replay(
      (letter) => {
        if ((letter.args as string[])[0] === 'bad') throw new Error('still failing');
      },
      { sleep: async () => {} },
    );
    assert.deepEqual(report, { replayed: 2, succeeded: 1, failed: 1, exhausted: 0 });
    assert.equal(await q.get(ok.id), undefined);
    const again = await q.replay(() => Promise.reject(new Error('nope')), { sleep: async () => {} });
    assert.deepEqual(again, { replayed: 1, succeeded: 0, failed: 1, exhausted: 1 });
    const kept = await q.get(bad.id);
    assert.equal(kept?.status, 'exhausted');
    assert.equal(kept?.replays, 2);
    assert.equal(kept?.error.message, 'nope');
    assert.deepEqual(
      kept?.history.map((h) => h.attempt),
      [4, 5],
    );
    const none = await q.replay(() => {}, { sleep: async () => {} });
    assert.equal(none.replayed, 0, 'exhausted letters are not replayed again');
    await q.close();
  });

  it('removes letters past retention, and alerts at the threshold', async () => {
    const { q, clock } = await queue();
    const alerts: number[] = [];
    const recoveries: number[] = [];
    q.on('alert', (e) => alerts.push(e.size));
    q.on('recovered', (e) => recoveries.push(e.size));
    await q.add({ error: new Error('old') });
    clock.advance(6 * 86_400_000);
    await q.add({ error: new Error('newer') });
    await q.add({ error: new Error('newest') });
    assert.deepEqual(alerts, [3]);
    assert.equal(q.isAlerting, true);
    clock.advance(86_400_000 + 1);
    assert.equal(await q.applyRetention(), 1);
    assert.equal(await q.size(), 2);
    assert.deepEqual(recoveries, [2]);
    await q.close();
  });

  it('purges', async () => {
    const { q } = await queue();
    for (let i = 0; i < 5; i++) await q.add({ error: new Error(String(i)) });
    assert.equal(await q.purge(), 5);
    assert.equal(await q.size(), 0);
    assert.equal(await q.oldestAge(), 0);
    await q.close();
  });

  it('keeps arguments that JSON alone would lose', async () => {
    const { q } = await queue();
    const circular: Record<string, unknown> = { name: 'loop' };
    circular.self = circular;
    class Money {
      constructor(readonly cents: bigint) {}
    }
    const letter = await q.add({
      args: [
        circular,
        10n ** 20n,
        new Date('2026-01-02T03:04:05Z'),
        Buffer.from('hi'),
        new Money(123n),
        new Map([['k', 1]]),
        undefined,
      ],
      error: new Error('x'),
    });
    const stored = await q.get(letter.id);
    assert.ok(stored);
    const { deserializeValue } = await import('../../lib/index.js');
    const [loop, big, date, buffer, money, map, undef] = deserializeValue(stored.args) as unknown[];
    assert.equal((loop as { self: unknown }).self, loop);
    assert.equal(big, 10n ** 20n);
    assert.equal((date as Date).toISOString(), '2026-01-02T03:04:05.000Z');
    assert.equal((buffer as Buffer).toString(), 'hi');
    assert.deepEqual(money, { cents: 123n });
    assert.equal((map as Map<string, number>).get('k'), 1);
    assert.equal(undef, undefined);
    await q.close();
  });

  if (options.reopen) {
    it('keeps every letter across a close and a reopen', async () => {
      const { q } = await queue();
      const ids = [];
      for (let i = 0; i < 20; i++) ids.push((await q.add({ args: [i], error: new Error('x') })).id);
      await q.delete(ids[3]);
      await q.close();
      const reopened = new DeadLetterQueue({ name: 'orders', backend: await make() });
      assert.equal(await reopened.size(), 19);
      assert.deepEqual(
        (await reopened.list({ limit: 100 })).items.map((l) => l.id),
        ids.filter((_, i) => i !== 3),
      );
      await reopened.close();
    });
  }
}
