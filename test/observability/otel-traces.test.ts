import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Injectable } from '@nestjs/common';
import type { TestingModule } from '@nestjs/testing';
import { Test } from '@nestjs/testing';
import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import {
  CircuitBreakerService,
  currentCallSignal,
  DeadLetterService,
  Fallback,
  ResilienceModule,
  Resilient,
  Timeout,
} from '../../lib/index.js';
import { Hedge } from '../../lib/nest/index.js';
import { fakeTime } from '../support/nest-timing.js';
import { freePort } from '../support/redis-server.js';

const exporter = new InMemorySpanExporter();
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
trace.setGlobalTracerProvider(new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }));
const tracer = trace.getTracer('the-app');

/** Fails its first `failFirst` attempts with a real connection refusal (fetch to a closed port), then succeeds. */
const ledger = { failFirst: 0, calls: 0, closedPort: 0 };

@Injectable()
class LedgerClient {
  @Resilient('ledger')
  async post(entry: string): Promise<string> {
    ledger.calls++;
    // Node's fetch throws `TypeError: fetch failed`, with ECONNREFUSED in its cause.
    if (ledger.calls <= ledger.failFirst) await fetch(`http://127.0.0.1:${ledger.closedPort}/ledger`);
    return `posted ${entry}`;
  }

  /** Holds its one bulkhead slot until `release` is called. */
  @Resilient('search')
  async search(held: Promise<void>): Promise<string> {
    await held;
    return 'found';
  }
}

/** Waits until the call's signal aborts (a timeout, a hedge that lost), then fails with its reason. */
const untilAborted = () =>
  new Promise<never>((_, reject) => {
    const signal = currentCallSignal();
    signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
  });

@Injectable()
class Catalog {
  hedgedRuns = 0;

  @Fallback({ value: 'from the fallback', handle: ['TimeoutError'] })
  @Timeout('20ms')
  async slow(): Promise<string> {
    return untilAborted();
  }

  @Hedge({ delay: '10ms' })
  async hedged(): Promise<string> {
    this.hedgedRuns++;
    return this.hedgedRuns === 1 ? untilAborted() : 'from the hedge';
  }
}

/** Runs `work` in a span of the app's own, as an HTTP instrumentation would; returns the span's id and trace. */
async function inSpan<T>(name: string, work: () => Promise<T>) {
  return tracer.startActiveSpan(name, async (span) => {
    try {
      return { result: await work(), traceId: span.spanContext().traceId, spanId: span.spanContext().spanId };
    } finally {
      span.end();
    }
  });
}

const finished = (name: string): ReadableSpan => {
  const span = exporter.getFinishedSpans().find((s) => s.name === name);
  assert.ok(span, `span ${name}`);
  return span;
};
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

describe('the resilience story on the OpenTelemetry trace (tracing: { attemptSpans: true })', () => {
  let moduleRef: TestingModule;
  let client: LedgerClient;
  let clock: ReturnType<typeof fakeTime>['clock'];
  before(async () => {
    ledger.closedPort = await freePort();
    const builder = Test.createTestingModule({
      imports: [
        ResilienceModule.forRoot({
          metrics: { provider: 'none' },
          tracing: { attemptSpans: true },
          services: {
            ledger: {
              tier: 'standard',
              retry: { maxAttempts: 3, baseDelay: 1, jitter: false },
              circuit: { failureThreshold: 5, timeout: 30 },
              rate: { rate: 100, per: 60 },
              dlq: { rethrow: false, storageBackend: 'memory' },
            },
            search: { tier: 'non_critical', bulkhead: { maxConcurrent: 1 } },
          },
        }),
      ],
      providers: [LedgerClient, Catalog],
    });
    clock = fakeTime(builder).clock;
    moduleRef = await builder.compile();
    moduleRef.useLogger(false);
    await moduleRef.init();
    client = moduleRef.get(LedgerClient);
  });
  after(() => moduleRef.close());

  it('a call that fails once then succeeds: a retry event on its span, and a child span per attempt', async () => {
    exporter.reset();
    Object.assign(ledger, { failFirst: 1, calls: 0 });
    const { result, spanId, traceId } = await inSpan('checkout', () => client.post('e-1'));
    assert.equal(result, 'posted e-1');
    const checkout = finished('checkout');
    assert.deepEqual(
      checkout.events.map((e) => [e.name, e.attributes]),
      [
        [
          'resilience.retry',
          {
            'resilience.operation': 'ledger',
            'resilience.retry.attempt': 2,
            'resilience.retry.delay': 1,
            'error.type': 'ECONNREFUSED',
          },
        ],
      ],
    );
    const attempts = exporter.getFinishedSpans().filter((s) => s.name === 'resilience.attempt');
    assert.deepEqual(
      attempts.map((s) => [s.attributes['resilience.retry.attempt'], s.status.code, s.attributes['error.type']]),
      [
        [1, SpanStatusCode.ERROR, 'ECONNREFUSED'],
        [2, SpanStatusCode.UNSET, undefined],
      ],
    );
    for (const attempt of attempts) {
      assert.equal(parentOf(attempt), spanId, 'a child of the call');
      assert.equal(attempt.spanContext().traceId, traceId);
    }
  });

  it('a dead letter keeps the trace id of the active span, and the span says which letter', async () => {
    exporter.reset();
    Object.assign(ledger, { failFirst: 99, calls: 0 });
    const { traceId } = await inSpan('nightly-posting', () => client.post('e-2'));
    const [letter] = (await moduleRef.get(DeadLetterService).queue('ledger').list()).items;
    assert.equal(letter.traceId, traceId);
    const events = finished('nightly-posting').events;
    assert.deepEqual(
      events.map((e) => e.name),
      ['resilience.retry', 'resilience.retry', 'resilience.dead_letter'],
    );
    assert.deepEqual(events[2].attributes, {
      'resilience.dead_letter.queue': 'ledger',
      'resilience.dead_letter.id': letter.id,
      'resilience.dead_letter.reason': 'failed',
      'error.type': 'ECONNREFUSED',
    });
  });

  it("a breaker's rejection and a limiter's denial are events with their retry-after", async () => {
    const breaker = moduleRef.get(CircuitBreakerService).get('ledger');
    breaker.forceOpen();
    exporter.reset();
    await inSpan('while-open', () => client.post('e-3'));
    const [rejected] = finished('while-open').events;
    assert.equal(rejected.name, 'resilience.circuit.rejected');
    assert.deepEqual(rejected.attributes, {
      'resilience.service': 'ledger',
      'server.service.name': 'ledger',
      'resilience.circuit.state': 'open',
    });
    breaker.forceClose();
    breaker.forceOpen();
    breaker.reset();
    // Opened by failures, it says when to come back: seconds, as the conventions measure time.
    Object.assign(ledger, { failFirst: 99, calls: 0 });
    for (let i = 0; i < 5; i++) await client.post(`f-${i}`);
    clock.advance(10_000);
    exporter.reset();
    await inSpan('after-failures', () => client.post('e-3b'));
    const [openRejection] = finished('after-failures').events;
    assert.equal(openRejection.attributes?.['resilience.circuit.retry_after'], 20);
    breaker.reset();
    breaker.forceClose();

    Object.assign(ledger, { failFirst: 0, calls: 0 });
    exporter.reset();
    await inSpan('storm', async () => {
      for (let i = 0; i < 120; i++) await client.post(`s-${i}`).catch(() => undefined);
    });
    const denials = finished('storm').events.filter((e) => e.name === 'resilience.rate_limit.denied');
    assert.ok(denials.length > 0, 'the storm was denied');
    assert.equal(denials[0].attributes?.['resilience.rate_limit.policy'], 'ledger');
    const retryAfter = Number(denials[0].attributes?.['resilience.rate_limit.retry_after']);
    assert.ok(retryAfter > 0 && retryAfter <= 60, `seconds until the window frees a slot: ${retryAfter}`);
    assert.equal(denials[0].attributes?.['resilience.rate_limit.retry_after_s'], undefined, 'the old name is gone');
  });

  it("a bulkhead's rejection names the dependency as server.service.name (peer.service is deprecated)", async () => {
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const running = client.search(held);
    exporter.reset();
    await inSpan('crowded', () => client.search(held).catch(() => 'rejected'));
    release();
    assert.equal(await running, 'found');
    // The bulkhead turns away each attempt: the event is on the attempt's span.
    const rejections = exporter
      .getFinishedSpans()
      .flatMap((span) => span.events.map((event) => ({ span: span.name, ...event })))
      .filter((event) => event.name === 'resilience.bulkhead.rejected');
    assert.ok(rejections.length > 0, 'the rejection is on the trace');
    const [rejected] = rejections;
    assert.equal(rejected.span, 'resilience.attempt');
    assert.deepEqual(rejected.attributes, {
      'resilience.service': 'search',
      'server.service.name': 'search',
      'resilience.bulkhead.reason': 'full',
    });
  });

  it("a timeout, the fallback that answered for it, and a hedge that won are events on the call's span", async () => {
    const catalog = moduleRef.get(Catalog);
    exporter.reset();
    const { result } = await inSpan('browse', () => catalog.slow());
    assert.equal(result, 'from the fallback');
    assert.deepEqual(
      finished('browse').events.map((e) => [e.name, e.attributes]),
      [
        [
          'resilience.timeout',
          { 'resilience.service': 'Catalog', 'server.service.name': 'Catalog', 'resilience.timeout.per': 'call' },
        ],
        ['resilience.fallback', { 'resilience.service': 'Catalog', 'resilience.fallback.outcome': 'answered' }],
      ],
    );
    exporter.reset();
    const hedged = await inSpan('compare', () => catalog.hedged());
    assert.equal(hedged.result, 'from the hedge');
    assert.deepEqual(
      finished('compare').events.map((e) => [e.name, e.attributes]),
      [
        ['resilience.hedge', { 'resilience.service': 'Catalog', 'resilience.hedge.outcome': 'started' }],
        ['resilience.hedge', { 'resilience.service': 'Catalog', 'resilience.hedge.outcome': 'won' }],
      ],
    );
  });

  it('outside any span: no event, no span, and the letter has no trace id', async () => {
    exporter.reset();
    Object.assign(ledger, { failFirst: 99, calls: 0 });
    await moduleRef.get(DeadLetterService).queue('ledger').purge();
    clock.advance(61_000); // past the storm's rate-limit window
    await client.post('e-4');
    assert.deepEqual(exporter.getFinishedSpans(), []);
    const [letter] = (await moduleRef.get(DeadLetterService).queue('ledger').list()).items;
    assert.equal(letter.traceId, undefined);
  });
});
