import 'reflect-metadata';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CircuitBreakerService, DeadLetterService } from '../../lib/index.js';
import { ADMIN_TOKEN, gateway, startAdminApp } from '../support/admin-app.js';
import { PLATFORMS } from '../support/http-apps.js';

const BASE = '/ops/resilience';
// biome-ignore lint/suspicious/noExplicitAny: JSON answers read by path
type Json = Record<string, any>;

/** Reads server-sent events until `done` says so (3 s at most), each with when it arrived. */
async function readEvents(response: Response, done: (events: Json[]) => boolean): Promise<Json[]> {
  const reader = (response.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
  const events: Json[] = [];
  let buffer = '';
  const deadline = Date.now() + 3_000;
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
      if (data) events.push({ ...(JSON.parse(data.slice(5)) as Json), receivedAt: performance.now() });
    }
  }
  await reader.cancel();
  return events;
}

for (const platform of PLATFORMS) {
  describe(`admin console hardening on ${platform}`, () => {
    it('a token read from a file keeps its line break out: the operator’s token is accepted', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'nest-resilience-secret-'));
      const file = join(dir, 'admin-token');
      writeFileSync(file, `${ADMIN_TOKEN}\n`);
      const app = await startAdminApp(platform, { enabled: true, path: BASE, token: readFileSync(file, 'utf8') });
      try {
        const answer = await fetch(`${app.url}${BASE}/status`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
        assert.equal(answer.status, 200);
      } finally {
        await app.app.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('refuses another origin (403, audited) whatever CORS allows; the page’s own origin and allowedOrigins pass', async () => {
      const app = await startAdminApp(platform, {
        enabled: true,
        path: BASE,
        token: ADMIN_TOKEN,
        allowedOrigins: ['https://ops.example.com'],
      });
      try {
        const breaker = app.app.get(CircuitBreakerService).get('payments');
        const post = (origin: string) =>
          fetch(`${app.url}${BASE}/breakers/payments/force-open`, {
            method: 'POST',
            headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json', origin },
            body: '{}',
          });
        const evil = await post('https://evil.example');
        assert.equal(evil.status, 403);
        assert.match(((await evil.json()) as Json).message, /answers its own origin only/);
        assert.equal(breaker.state, 'closed');
        const read = await fetch(`${app.url}${BASE}/config`, {
          headers: { authorization: `Bearer ${ADMIN_TOKEN}`, origin: 'https://evil.example' },
        });
        assert.equal(read.status, 403, 'a read from another origin is refused too: the answers are secrets');
        const crossSite = await fetch(`${app.url}${BASE}/status`, {
          headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'sec-fetch-site': 'cross-site' },
        });
        assert.equal(crossSite.status, 403);
        assert.equal((await post(app.url)).status, 201, 'its own origin');
        breaker.reset();
        assert.equal((await post('https://ops.example.com')).status, 201, 'an allowed origin');
        breaker.reset();
        assert.deepEqual(
          app.logs.audit().map((line) => line.outcome),
          ['refused: another origin', 'done', 'done'],
        );
      } finally {
        await app.app.close();
      }
    });

    it('bounds a replay’s duration (a tiny rate held the queue for hours) and stops a replay at app.close()', async () => {
      const app = await startAdminApp(platform);
      const headers = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
      try {
        const slow = await fetch(`${app.url}${BASE}/dlq/payments/replay`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ limit: 1, ratePerSecond: 0.0001 }),
        });
        assert.equal(slow.status, 400);
        assert.match(
          ((await slow.json()) as Json).message,
          /would take 10000 s, over admin.replay.maxDurationSeconds 600/,
        );
        // Five letters of a failing gateway, replayed at one every 2 s.
        gateway.healthy = false;
        // Five customers: the service's limiter counts 3 a minute per customer.
        for (let i = 0; i < 5; i++) await app.pay(`order-${i}`, `customer-${i}`);
        assert.equal(await app.app.get(DeadLetterService).find('payments')?.size(), 5);
        gateway.healthy = true;
        app.app.get(CircuitBreakerService).get('payments').reset();
        const before = gateway.calls;
        const replay = fetch(`${app.url}${BASE}/dlq/payments/replay`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ limit: 5, ratePerSecond: 0.5 }),
        }).then(
          (r) => r.status,
          () => 'closed',
        );
        const deadline = Date.now() + 5000;
        while (gateway.calls === before && Date.now() < deadline)
          await new Promise((resolve) => setTimeout(resolve, 10));
        assert.equal(gateway.calls - before, 1, 'the replay began');
        const closing = performance.now();
        await app.app.close();
        const took = performance.now() - closing;
        assert.ok(took < 1000, `app.close() took ${took.toFixed(0)} ms`);
        assert.equal(gateway.calls - before, 1, 'only the letter in progress ran');
        await replay;
      } finally {
        gateway.healthy = true;
        await app.app.close().catch(() => {});
      }
    });

    it('two transitions back to back: the stream shows the second at once, not at the next tick', async () => {
      const app = await startAdminApp(platform);
      try {
        const breaker = app.app.get(CircuitBreakerService).get('payments');
        const response = await fetch(`${app.url}${BASE}/events`, {
          headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        });
        let changedAt = 0;
        const events = await readEvents(response, (seen) => {
          if (seen.length === 1 && !changedAt) {
            breaker.forceOpen();
            breaker.forceClose();
            changedAt = performance.now();
          }
          return (
            changedAt > 0 &&
            seen.some(
              (e) =>
                e.receivedAt > changedAt && e.breakers[0].state === 'closed' && e.breakers[0].transitions.length >= 2,
            )
          );
        });
        const last = events.at(-1) as Json;
        assert.equal(last.breakers[0].state, 'closed');
        assert.ok(
          last.receivedAt - changedAt < 400,
          `the final state arrived ${(last.receivedAt - changedAt).toFixed(0)} ms later`,
        );
      } finally {
        await app.app.close();
      }
    });
  });
}
