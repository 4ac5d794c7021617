import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { DeadLetterService, ResilienceModule, Resilient } from '../../lib/index.js';
import { fakeTime } from './nest-timing.js';
import { freePort } from './redis-server.js';

/** A payments dependency refusing connections while it is down: a real fetch to a closed port. */
export const payments = { healthy: true, calls: 0, closedPort: 0 };

@Injectable()
export class PaymentsClient {
  @Resilient('payments')
  async charge(order: string): Promise<string> {
    payments.calls++;
    if (!payments.healthy) await fetch(`http://127.0.0.1:${payments.closedPort}/charge`);
    return `charged ${order}`;
  }
}

/** Every pattern on one service, so every instrument gets series. */
export function scenarioConfig(provider: 'prom-client' | 'opentelemetry', extra: Record<string, unknown> = {}) {
  return {
    metrics: { provider },
    services: {
      payments: {
        tier: 'critical',
        circuit: { failureThreshold: 2, timeout: 30 },
        retry: { maxAttempts: 2, baseDelay: 1, jitter: false },
        rate: { rate: 8, per: 60 },
        dlq: { rethrow: false, storageBackend: 'memory' as const },
        bulkhead: { enabled: true, maxConcurrent: 4, maxQueue: 0 },
        rollout: { percent: 0 },
      },
    },
    ...extra,
  };
}

/**
 * Healthy calls, an outage (retries, failures, the breaker opening, rejections, dead letters),
 * a rate-limit storm, the recovery (open time passed, trial calls close the breaker) and a
 * replay of the letters. Deterministic: a ManualClock and instant sleeps.
 */
export async function runScenario(config: ReturnType<typeof scenarioConfig>) {
  payments.closedPort ||= await freePort();
  const builder = Test.createTestingModule({
    imports: [ResilienceModule.forRoot(config)],
    providers: [PaymentsClient],
  });
  const { clock } = fakeTime(builder);
  const moduleRef = await builder.compile();
  moduleRef.useLogger(false);
  await moduleRef.init();
  const client = moduleRef.get(PaymentsClient);
  const call = (order: string) => client.charge(order).catch((error: unknown) => error);
  payments.healthy = true;
  for (let i = 0; i < 2; i++) await call(`ok-${i}`);
  payments.healthy = false;
  for (let i = 0; i < 3; i++) await call(`down-${i}`);
  for (let i = 0; i < 5; i++) await call(`storm-${i}`); // the limiter's 8 a minute run out
  payments.healthy = true;
  clock.advance(61_000); // the breaker's open time and the limiter's window
  for (let i = 0; i < 2; i++) await call(`back-${i}`);
  await moduleRef.get(DeadLetterService).replay('payments', { sleep: async () => {} });
  return { moduleRef, clock, client };
}
