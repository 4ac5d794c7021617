import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CircuitBreakerService } from '../../lib/index.js';
import { AdminConsole } from '../../lib/nest/admin/admin-console.service.js';
import { ADMIN_TOKEN, gateway, startAdminApp } from '../support/admin-app.js';
import { PLATFORMS } from '../support/http-apps.js';

const BASE = '/ops/resilience';
// biome-ignore lint/suspicious/noExplicitAny: JSON answers read by path
type Json = Record<string, any>;

/** Reads server-sent events from a real response body until `done` says so (or 5 s pass). */
async function readEvents(response: Response, done: (events: Json[]) => boolean): Promise<Json[]> {
  const reader = (response.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
  const events: Json[] = [];
  let buffer = '';
  const deadline = Date.now() + 5_000;
  while (!done(events) && Date.now() < deadline) {
    const { value, done: ended } = await reader.read();
    if (ended) break;
    buffer += value;
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const data = buffer
        .slice(0, end)
        .split('\n')
        .find((line) => line.startsWith('data:'));
      buffer = buffer.slice(end + 2);
      if (data) events.push({ ...(JSON.parse(data.slice(5)) as Json), receivedAt: Date.now() });
    }
  }
  await reader.cancel();
  return events;
}

for (const platform of PLATFORMS) {
  describe(`admin console API on ${platform}`, () => {
    let app: Awaited<ReturnType<typeof startAdminApp>>;
    const headers = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
    const get = async (path: string) => {
      const response = await fetch(`${app.url}${BASE}/${path}`, { headers });
      return { status: response.status, body: (await response.json()) as Json };
    };
    const send = async (method: string, path: string, body?: unknown) => {
      const init =
        body === undefined
          ? { method, headers: { authorization: headers.authorization } }
          : { method, headers, body: JSON.stringify(body) };
      const response = await fetch(`${app.url}${BASE}/${path}`, init);
      return { status: response.status, body: (await response.json()) as Json };
    };

    before(async () => {
      gateway.healthy = true;
      app = await startAdminApp(platform);
    });
    after(() => app.app.close());

    it('shows a breaker opening through an outage, with its transition, and the operator forcing it', async () => {
      gateway.healthy = false;
      await app.pay('o-1', 'customer-a');
      await app.pay('o-2', 'customer-b');
      const open = await get('breakers/payments');
      assert.equal(open.status, 200);
      assert.equal(open.body.state, 'open');
      assert.equal(open.body.tier, 'critical');
      assert.equal(open.body.scope, 'local');
      assert.equal(open.body.retryAfter, 30);
      assert.deepEqual(
        open.body.transitions.map((t: Json) => [t.from, t.to, t.at]),
        [['closed', 'open', app.clock.now()]],
      );
      assert.equal((await send('POST', 'breakers/payments/force-close', {})).body.state, 'closed');
      const forced = await send('POST', 'breakers/payments/force-open', {});
      assert.deepEqual([forced.body.state, forced.body.forced, forced.body.retryAfter], ['open', true, null]);
      assert.equal(app.app.get(CircuitBreakerService).get('payments').state, 'open');
      assert.equal((await send('POST', 'breakers/payments/reset', {})).body.state, 'closed');
      assert.equal((await send('POST', 'breakers/payments/explode', {})).status, 404);
      assert.equal((await get('breakers/nothing')).status, 404);
      gateway.healthy = true;
    });

    it('shows each limiter’s policy and counts, never a key', async () => {
      for (let i = 0; i < 5; i++) await app.pay(`o-${i}`, 'customer-7f3a9');
      const { body } = await get('limiters');
      const limiter = body.limiters.find((l: Json) => l.name === 'payments');
      assert.deepEqual(limiter.policy, {
        rate: 3,
        per: 60,
        burst: 0,
        strategy: 'token_bucket', // the critical tier's
        mode: 'reject',
        key: 'function perCustomer',
      });
      assert.ok(limiter.rejected >= 2 && limiter.allowed >= 3, JSON.stringify(limiter));
      const everything = JSON.stringify(await get('status')) + JSON.stringify(body);
      assert.doesNotMatch(everything, /customer-7f3a9|customer-a/, 'no raw key anywhere');
    });

    it('lists, filters and pages letters, shows one, replays with bounds, purges only when confirmed', async () => {
      const queues = (await get('dlq')).body.queues;
      const queue = queues.find((q: Json) => q.name === 'payments');
      assert.equal(queue.size, 2, 'the two calls that failed during the outage');
      assert.equal(queue.backend, 'MemoryDeadLetterBackend');
      const first = await get('dlq/payments?limit=1');
      assert.equal(first.body.items.length, 1);
      assert.ok(first.body.next, 'a second page');
      const second = await get(`dlq/payments?limit=1&cursor=${encodeURIComponent(first.body.next)}`);
      assert.equal(second.body.items.length, 1);
      assert.notEqual(second.body.items[0].id, first.body.items[0].id);
      assert.equal((await get('dlq/payments?reason=failed')).body.items.length, 2);
      assert.equal((await get('dlq/payments?reason=circuit_open')).body.items.length, 0);
      assert.equal((await get('dlq/payments?status=gone')).status, 400);
      assert.equal((await get('dlq/payments?limit=0')).status, 400);
      const letter = await get(`dlq/payments/letters/${first.body.items[0].id}`);
      assert.equal(letter.body.id, first.body.items[0].id);
      assert.equal((await get('dlq/payments/letters/nope')).status, 404);
      assert.equal((await get('dlq/none')).status, 404);

      assert.equal(
        (await send('POST', 'dlq/payments/replay', { limit: 5000 })).status,
        400,
        'over admin.replay.maxLimit',
      );
      assert.equal((await send('POST', 'dlq/payments/replay', { ratePerSecond: 500 })).status, 400);
      assert.equal((await send('POST', 'dlq/payments/replay', [])).status, 400, 'the body is an object');
      const calls = gateway.calls;
      const replay = await send('POST', 'dlq/payments/replay', { limit: 1, ratePerSecond: 50 });
      assert.equal(replay.status, 201);
      assert.deepEqual([replay.body.replayed, replay.body.succeeded], [1, 1], JSON.stringify(replay.body));
      assert.equal(gateway.calls, calls + 1, 'the limit held: one letter replayed');

      assert.equal((await send('DELETE', 'dlq/payments')).status, 400, 'no confirmation');
      assert.equal((await send('DELETE', 'dlq/payments?confirm=other')).status, 400);
      assert.equal((await get('dlq')).body.queues.find((q: Json) => q.name === 'payments').size, 1);
      const purge = await send('DELETE', 'dlq/payments?confirm=payments');
      assert.deepEqual(purge.body, { queue: 'payments', purged: 1 });
      const audit = app.logs.audit().map((line) => `${line.what}: ${line.outcome.split(':')[0]}`);
      assert.ok(
        audit.includes('replay queue payments: done') && audit.includes('purge queue payments: done'),
        audit.join('\n'),
      );
      assert.ok(audit.includes('purge queue payments: failed'), 'a refused purge is audited too');
    });

    it('reads and sets a rollout share live (this replica), and clears it', async () => {
      const before = (await get('rollouts')).body.rollouts;
      assert.deepEqual(before, [{ service: 'payments', configured: 0, effective: 0, source: 'configured' }]);
      const set = await send('POST', 'rollouts/payments', { percent: 100 });
      assert.deepEqual([set.body.effective, set.body.source, set.body.live], [100, 'live', 100]);
      assert.equal((await send('POST', 'rollouts/payments', { percent: 101 })).status, 400);
      assert.equal((await send('POST', 'rollouts/payments', {})).status, 400);
      assert.equal((await send('POST', 'rollouts/nothing', { percent: 5 })).status, 404);
      const cleared = await send('POST', 'rollouts/payments', { percent: null });
      assert.deepEqual([cleared.body.effective, cleared.body.source], [0, 'configured']);
    });

    it('shows the resolved configuration with its secrets redacted', async () => {
      const { body } = await get('config');
      assert.equal(body.config.trace.salt, '[redacted]');
      assert.equal(body.services.payments.tier, 'critical');
      assert.equal(body.services.payments.circuit.failureThreshold, 2);
      assert.equal(body.services.payments.rate.keyFunc, '[function perCustomer]');
      assert.doesNotMatch(JSON.stringify(body), /a-salt-nobody-may-read|a-token-of-24/);
    });

    it('shares one status reading among the open pages for 500 ms, and reads afresh after a transition', async () => {
      const console = app.app.get(AdminConsole);
      const first = console.streamStatus();
      assert.equal(console.streamStatus(), first, 'a second page within 500 ms gets the same reading');
      app.app.get(CircuitBreakerService).get('payments').forceOpen();
      const afterChange = console.streamStatus();
      assert.notEqual(afterChange, first);
      assert.equal(
        (await afterChange).breakers.find((b) => b.name === 'payments')?.state,
        'open',
        'the fresh reading has the change',
      );
      app.app.get(CircuitBreakerService).get('payments').reset();
    });

    it('streams the status as server-sent events, at once when a breaker changes state', async () => {
      const response = await fetch(`${app.url}${BASE}/events`, { headers });
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /text\/event-stream/);
      let forcedAt = 0;
      const events = await readEvents(response, (seen) => {
        if (seen.length === 1 && !forcedAt) {
          forcedAt = Date.now();
          void send('POST', 'breakers/payments/force-open', {});
        }
        return seen.some((e) => e.breakers.find((b: Json) => b.name === 'payments').state === 'open');
      });
      const first = events[0];
      assert.deepEqual(Object.keys(first).sort(), [
        'at',
        'breakers',
        'bulkheads',
        'chaos',
        'config',
        'limiters',
        'patterns',
        'queues',
        'receivedAt',
        'rollouts',
        'since',
        'times',
      ]);
      const opened = events.find((e) => e.breakers.find((b: Json) => b.name === 'payments').state === 'open');
      assert.ok(opened, 'the opening reached the stream');
      assert.ok(opened.receivedAt - forcedAt < 900, `heard ${opened.receivedAt - forcedAt} ms after the change`);
      await send('POST', 'breakers/payments/reset', {});
    });
  });

  describe(`admin console on ${platform}: shutdown with the page open`, () => {
    it('ends the event streams, so app.close() does not wait for the browser to go', async () => {
      const app = await startAdminApp(platform);
      const headers = { authorization: `Bearer ${ADMIN_TOKEN}` };
      const stream = await fetch(`${app.url}${BASE}/events`, { headers });
      assert.equal(stream.status, 200);
      const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
      await reader.read(); // the first status arrived: the stream is live
      const started = Date.now();
      const closed = await Promise.race([
        app.app.close().then(() => true),
        new Promise((resolve) => setTimeout(() => resolve(false), 5_000)),
      ]);
      assert.equal(closed, true, 'app.close() returned within 5 s');
      assert.ok(Date.now() - started < 2_000, `closed in ${Date.now() - started} ms`);
      for (;;) if ((await reader.read()).done) break; // the server ended the stream
    });
  });
}
