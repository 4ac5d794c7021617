// One replica of a service whose breaker is configured by the test:
// `node fleet-worker.js <redisUrl> <downstreamUrl> <circuit settings JSON>`.
// A Nest app (ResilienceModule + a @CircuitBreaker method calling the downstream with the
// real fetch), driven over IPC: { id, op: 'calls', count } makes `count` calls at once;
// 'untilRejected' calls one after another until the breaker rejects; 'loop' calls for `ms`;
// 'state' reports the breaker. Every reply: { id, ok, failed, rejected, longest, state, sharing, health }.
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  CircuitBreaker,
  CircuitBreakerService,
  CircuitOpenError,
  ResilienceHealthIndicator,
  ResilienceModule,
} from '../../lib/index.js';

const [redisUrl, downstream, circuitJson] = process.argv.slice(2);

@Injectable()
class Downstream {
  @CircuitBreaker('downstream')
  async call(): Promise<string> {
    const response = await fetch(downstream);
    const body = await response.text();
    if (!response.ok) throw new Error(`downstream answered ${response.status}`);
    return body;
  }
}

@Module({
  imports: [
    ResilienceModule.forRoot({
      redis: { url: redisUrl },
      metrics: { enabled: false },
      services: { downstream: { circuit: JSON.parse(circuitJson) } },
    }),
  ],
  providers: [Downstream],
})
class ReplicaModule {}

const app = await NestFactory.createApplicationContext(ReplicaModule, { logger: ['error'] });
const service = app.get(Downstream);
const circuits = app.get(CircuitBreakerService);
const breaker = () => circuits.get('downstream') as ReturnType<typeof circuits.get> & { sharing?: boolean };

interface Tally {
  ok: number;
  failed: number;
  rejected: number;
  longest: number;
}

async function once(tally: Tally): Promise<boolean> {
  const started = performance.now();
  try {
    await service.call();
    tally.ok++;
    return true;
  } catch (error) {
    if (error instanceof CircuitOpenError) tally.rejected++;
    else tally.failed++;
    return false;
  } finally {
    tally.longest = Math.max(tally.longest, performance.now() - started);
  }
}

process.on('message', async (message: { id: number; op: string; count?: number; ms?: number }) => {
  const tally: Tally = { ok: 0, failed: 0, rejected: 0, longest: 0 };
  if (message.op === 'calls') {
    await Promise.all(Array.from({ length: message.count ?? 1 }, () => once(tally)));
  } else if (message.op === 'untilRejected') {
    while (tally.rejected === 0 && tally.ok + tally.failed < (message.count ?? 100)) await once(tally);
  } else if (message.op === 'loop') {
    const end = Date.now() + (message.ms ?? 1000);
    while (Date.now() < end) {
      await once(tally);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  } else if (message.op === 'exit') {
    await app.close();
    process.exit(0);
  }
  const health = (await app.get(ResilienceHealthIndicator).isHealthy()).resilience.state;
  process.send?.({ id: message.id, ...tally, state: breaker().state, sharing: breaker().sharing, health });
});
process.send?.({ id: 0, ready: true });
