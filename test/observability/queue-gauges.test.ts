import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import * as prom from 'prom-client';
import { ResilienceMetrics } from '../../lib/index.js';
import { OtelMetricsBackend } from '../../lib/nest/metrics/otel-backend.js';

class TestReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

/** A queue source that counts its measurements (each a size() and an oldestAge() call on a real store). */
function countingQueues() {
  const counter = { calls: 0 };
  const source = async () => {
    counter.calls++;
    return [['orders', counter.calls * 10, 5, undefined]] as [string, number, number, number | undefined][];
  };
  return { counter, source };
}

describe('the queue gauges (dlq_size, dlq_oldest_message_age_seconds, dlq_spooled)', () => {
  it('measure each queue once per prom-client scrape, and afresh at the next', async () => {
    const registry = new prom.Registry();
    const metrics = new ResilienceMetrics(prom, '', registry);
    const { counter, source } = countingQueues();
    metrics.addQueues(source);
    const first = await registry.metrics();
    assert.equal(counter.calls, 1, 'one measurement for the three gauges (three before)');
    assert.match(first, /dlq_size\{queue="orders"\} 10/);
    assert.match(first, /dlq_oldest_message_age_seconds\{queue="orders"\} 5/);
    assert.match(await registry.metrics(), /dlq_size\{queue="orders"\} 20/, 'the next scrape is not served stale');
    assert.equal(counter.calls, 2);
  });

  it('measure each queue once per OpenTelemetry collection', async () => {
    const reader = new TestReader();
    const provider = new MeterProvider({ readers: [reader] });
    const metrics = new ResilienceMetrics(new OtelMetricsBackend(provider.getMeter('queue-gauges-test')));
    const { counter, source } = countingQueues();
    metrics.addQueues(source);
    await reader.collect();
    assert.equal(counter.calls, 1);
    await reader.collect();
    assert.equal(counter.calls, 2);
  });
});
