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

@Injectable()
class TracedClient {
  @Resilient('bench', { rate: { rate: 1e12, per: 60, key: 'global' } })
  call(): Promise<number> {
    return work();
  }
}

/** The same stack with every call traced. Lines go to /dev/null: built, serialized and written, but no disk in the figure. */
@Module({
  imports: [ResilienceModule.forRoot({ metrics: { enabled: false }, trace: { file: '/dev/null', sampleRate: 1 } })],
  providers: [TracedClient],
})
class TracedModule {}

@Injectable()
class SampledClient {
  @Resilient('bench', { rate: { rate: 1e12, per: 60, key: 'global' } })
  call(): Promise<number> {
    return work();
  }
}

@Module({
  imports: [ResilienceModule.forRoot({ metrics: { enabled: false }, trace: { file: '/dev/null', sampleRate: 0.1 } })],
  providers: [SampledClient],
})
class SampledModule {}

export async function benchResilient(): Promise<string> {
  const moduleRef = await Test.createTestingModule({ imports: [BenchModule] }).compile();
  moduleRef.useLogger(false);
  await moduleRef.init();
  const client = moduleRef.get(Client);
  const tracedRef = await Test.createTestingModule({ imports: [TracedModule] }).compile();
  tracedRef.useLogger(false);
  await tracedRef.init();
  const traced = tracedRef.get(TracedClient);
  const sampledRef = await Test.createTestingModule({ imports: [SampledModule] }).compile();
  sampledRef.useLogger(false);
  await sampledRef.init();
  const sampled = sampledRef.get(SampledClient);
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
    'ours: @Resilient method, trace sampleRate 1 (issue 18)': async (n) => {
      for (let i = 0; i < n; i++) await traced.call();
    },
    'ours: @Resilient method, trace sampleRate 0.1': async (n) => {
      for (let i = 0; i < n; i++) await sampled.call();
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
  await tracedRef.close();
  await sampledRef.close();
  const r = (name: string) => results[name];
  return formatTable('@Resilient on a provider method, success path (issue 7)', results, [
    check('ours / bare', r('ours: @Resilient method (limiter, breaker, retry, dead letter)'), r('bare await fn()'), 3),
    check(
      'ours / cockatiel wrap(retry, circuitBreaker)',
      r('ours: @Resilient method (limiter, breaker, retry, dead letter)'),
      r('cockatiel wrap(retry, circuitBreaker)'),
      0.5,
    ),
    check(
      'traced (sampleRate 1) / untraced',
      r('ours: @Resilient method, trace sampleRate 1 (issue 18)'),
      r('ours: @Resilient method (limiter, breaker, retry, dead letter)'),
      1.1,
    ),
    check(
      'traced (sampleRate 0.1) / untraced',
      r('ours: @Resilient method, trace sampleRate 0.1'),
      r('ours: @Resilient method (limiter, breaker, retry, dead letter)'),
      1.1,
    ),
  ]);
}
