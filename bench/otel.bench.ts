import 'reflect-metadata';
import { Injectable, Module, type Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { context, metrics, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { AlwaysOffSampler, TracerProvider } from '@opentelemetry/sdk-trace';
import { ResilienceModule, Resilient } from '../lib/index.js';
import { check, formatTable, measure } from './harness.js';

const work = async () => 1;
const STACK = { rate: { rate: 1e12, per: 60, key: 'global' as const } };

/** One client class per module: each app's pipeline is its own (no shared, polymorphic stage code between rows). */
function appWith(config: Record<string, unknown>): { module: Type; client: Type<{ call(): Promise<number> }> } {
  @Injectable()
  class Client {
    // Memory limiter (never reached), closed breaker, retry, dead letter: the full stack.
    @Resilient('bench', STACK)
    call(): Promise<number> {
      return work();
    }
  }
  @Module({ imports: [ResilienceModule.forRoot(config)], providers: [Client] })
  class App {}
  return { module: App, client: Client };
}

async function start({ module, client }: ReturnType<typeof appWith>) {
  const moduleRef = await Test.createTestingModule({ imports: [module] }).compile();
  moduleRef.useLogger(false);
  await moduleRef.init();
  return { moduleRef, client: moduleRef.get(client) };
}

const contextManager = new AsyncLocalStorageContextManager();
const dropAll = new TracerProvider({ sampler: new AlwaysOffSampler() });

/** No tracer provider and no context manager: an app that does not run the OpenTelemetry SDK. */
function withoutSdk(): void {
  trace.disable();
  context.disable();
}

/** The SDK with a sampler that drops every trace, and the call inside a (dropped) request span. */
function withDroppingSdk(): void {
  withoutSdk();
  context.setGlobalContextManager(contextManager.enable());
  trace.setGlobalTracerProvider(dropAll);
}

export async function benchOtel(): Promise<string> {
  const off = await start(appWith({ metrics: { provider: 'none' }, tracing: { enabled: false } }));
  const on = await start(appWith({ metrics: { provider: 'none' } }));
  const attempts = await start(appWith({ metrics: { provider: 'none' }, tracing: { attemptSpans: true } }));
  metrics.setGlobalMeterProvider(new MeterProvider());
  const otelMetrics = await start(appWith({ metrics: { provider: 'opentelemetry' }, tracing: { enabled: false } }));
  const promMetrics = await start(appWith({ metrics: { provider: 'prom-client' }, tracing: { enabled: false } }));
  const tracer = trace.getTracer('bench');
  const inDroppedSpan = async (n: number, call: () => Promise<number>) => {
    withDroppingSdk();
    await tracer.startActiveSpan('request', async (span) => {
      for (let i = 0; i < n; i++) await call();
      span.end();
    });
  };
  const results = await measure({
    'tracing off (tracing.enabled: false), metrics off': async (n) => {
      withoutSdk();
      for (let i = 0; i < n; i++) await off.client.call();
    },
    'tracing on (default), no tracer provider registered': async (n) => {
      withoutSdk();
      for (let i = 0; i < n; i++) await on.client.call();
    },
    'tracing on, SDK with AlwaysOffSampler, in a dropped span': (n) => inDroppedSpan(n, () => on.client.call()),
    'tracing off, SDK with AlwaysOffSampler, in a dropped span': (n) => inDroppedSpan(n, () => off.client.call()),
    'attemptSpans: true, SDK with AlwaysOffSampler, in a dropped span': (n) =>
      inDroppedSpan(n, () => attempts.client.call()),
    'metrics through OpenTelemetry (SDK MeterProvider), tracing off': async (n) => {
      withoutSdk();
      for (let i = 0; i < n; i++) await otelMetrics.client.call();
    },
    'metrics through prom-client, tracing off': async (n) => {
      withoutSdk();
      for (let i = 0; i < n; i++) await promMetrics.client.call();
    },
  });
  withoutSdk();
  for (const app of [off, on, attempts, otelMetrics, promMetrics]) await app.moduleRef.close();
  const r = (name: string) => results[name];
  const baseline = r('tracing off (tracing.enabled: false), metrics off');
  return formatTable('OpenTelemetry: the @Resilient success path (issue 20)', results, [
    check('no tracer provider / tracing off', r('tracing on (default), no tracer provider registered'), baseline, 1.05),
    check(
      'SDK dropping everything / tracing off, both in a dropped span',
      r('tracing on, SDK with AlwaysOffSampler, in a dropped span'),
      r('tracing off, SDK with AlwaysOffSampler, in a dropped span'),
      1.15,
    ),
    check(
      'attemptSpans, SDK dropping everything / tracing off, both in a dropped span',
      r('attemptSpans: true, SDK with AlwaysOffSampler, in a dropped span'),
      r('tracing off, SDK with AlwaysOffSampler, in a dropped span'),
      1.15,
    ),
    // The SDK's context manager (AsyncLocalStorage) makes every await of the app dearer, ours or not.
    check(
      'SDK dropping everything / no SDK at all',
      r('tracing on, SDK with AlwaysOffSampler, in a dropped span'),
      baseline,
      1.15,
    ),
  ]);
}
