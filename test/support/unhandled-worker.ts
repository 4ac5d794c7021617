// For each decorator, calls a failing decorated method without handling its promise, and
// reports whether Node raised 'unhandledRejection' for it, as it does for the same
// method undecorated. Prints one JSON line: case -> true (reported) / false (vanished).
import 'reflect-metadata';
import { Injectable, Module, NotFoundException } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CircuitBreaker, DeadLetter, RateLimit, ResilienceModule, Resilient, Retry } from '../../lib/index.js';

// A 404: a breaker does not count it and a retry does not repeat it, so every stage passes it on at once.
const failure = (label: string) => new NotFoundException(`${label} failed`);

@Injectable()
class Plain {
  async run(label: string): Promise<never> {
    throw failure(label);
  }
}

@Injectable()
class Decorated {
  @CircuitBreaker('unhandled-breaker')
  async breaker(label: string): Promise<never> {
    throw failure(label);
  }

  @CircuitBreaker('unhandled-breaker-timeout', { callTimeout: 5 })
  async breakerWithTimeout(label: string): Promise<never> {
    throw failure(label);
  }

  @Retry({ maxAttempts: 3, baseDelay: 0.001 })
  async retry(label: string): Promise<never> {
    throw failure(label);
  }

  @RateLimit({ name: 'unhandled-limiter', rate: 1000, per: 1 })
  async rateLimit(label: string): Promise<never> {
    throw failure(label);
  }

  @DeadLetter('unhandled-letters')
  async deadLetter(label: string): Promise<never> {
    throw failure(label);
  }

  // No declared type: a method that throws before any await (the first call warns once).
  // biome-ignore lint/suspicious/noExplicitAny: the point is an undeclared return type
  @CircuitBreaker('unhandled-sync') syncThrow(label: string): any {
    throw failure(label);
  }

  // biome-ignore lint/suspicious/noExplicitAny: the point is an undeclared return type
  @Retry({ maxAttempts: 2, baseDelay: 0.001 }) syncThrowRetried(label: string): any {
    throw failure(label);
  }
}

@Injectable()
@Resilient('unhandled-resilient')
class Stacked {
  async run(label: string): Promise<never> {
    throw failure(label);
  }
}

@Module({
  imports: [ResilienceModule.forRoot({ metrics: { enabled: false } })],
  providers: [Plain, Decorated, Stacked],
})
class AppModule {}

const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
const reported = new Set<string>();
process.on('unhandledRejection', (reason) => reported.add((reason as Error).message));
const plain = app.get(Plain);
const decorated = app.get(Decorated);
const stacked = app.get(Stacked);
const cases: Record<string, (label: string) => unknown> = {
  undecorated: (l) => plain.run(l),
  '@CircuitBreaker': (l) => decorated.breaker(l),
  '@CircuitBreaker with callTimeout': (l) => decorated.breakerWithTimeout(l),
  '@Retry': (l) => decorated.retry(l),
  '@RateLimit': (l) => decorated.rateLimit(l),
  '@DeadLetter': (l) => decorated.deadLetter(l),
  '@CircuitBreaker, sync throw': (l) => decorated.syncThrow(l),
  '@Retry, sync throw': (l) => decorated.syncThrowRetried(l),
  '@Resilient': (l) => stacked.run(l),
};
const result: Record<string, boolean> = {};
for (const [label, call] of Object.entries(cases)) {
  call(label); // nobody handles this promise
  await new Promise((resolve) => setTimeout(resolve, 30));
  result[label] = reported.has(`${label} failed`);
}
process.stdout.write(`${JSON.stringify(result)}\n`);
await app.close();
