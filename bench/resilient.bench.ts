import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ConsecutiveBreaker, circuitBreaker, handleAll, retry, wrap } from 'cockatiel';
import { ResilienceModule, Resilient } from '../lib/index.js';
import { check, formatTable, measure } from './harness.js';

const work = async () => 1;
const noop = () => {};

@Injectable()
class Client {
  // Memory limiter (never reached), closed breaker, retry, dead letter: the full stack.
  @Resilient('bench', { rate: { rate: 1e12, per: 60, key: 'global' } })
  call(): Promise<number> {
    return work();
  }

  plain(): Promise<number> {
    return work();
  }
}

@Module({ imports: [ResilienceModule.forRoot({ metrics: { enabled: false } })], providers: [Client] })
class BenchModule {}

export async function benchResilient(): Promise<string> {
  const moduleRef = await Test.createTestingModule({ imports: [BenchModule] }).compile();
  moduleRef.useLogger(false);
  await moduleRef.init();
  const client = moduleRef.get(Client);
  const cockatiel = wrap(
    retry(handleAll, { maxAttempts: 3 }),
    circuitBreaker(handleAll, { halfOpenAfter: 60_000, breaker: new ConsecutiveBreaker(5) }),
  );
  const observe = [noop, noop] as const;
  const results = await measure({
    'bare await fn()': async (n) => {
      for (let i = 0; i < n; i++) await client.plain();
    },
    'ours: @Resilient method (limiter, breaker, retry, dead letter)': async (n) => {
      for (let i = 0; i < n; i++) await client.call();
    },
    'cockatiel wrap(retry, circuitBreaker)': async (n) => {
      for (let i = 0; i < n; i++) await cockatiel.execute(() => client.plain());
    },
    'floor: two observing reactions around fn()': async (n) => {
      for (let i = 0; i < n; i++) {
        const p = client.plain();
        p.then(...observe);
        await p.then((v) => v).catch(noop);
      }
    },
  });
  await moduleRef.close();
  const r = (name: string) => results[name];
  return formatTable('@Resilient on a provider method, success path (issue 7)', results, [
    check('ours / bare', r('ours: @Resilient method (limiter, breaker, retry, dead letter)'), r('bare await fn()'), 3),
    check(
      'ours / cockatiel wrap(retry, circuitBreaker)',
      r('ours: @Resilient method (limiter, breaker, retry, dead letter)'),
      r('cockatiel wrap(retry, circuitBreaker)'),
      0.5,
    ),
  ]);
}
