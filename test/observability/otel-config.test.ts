import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Test } from '@nestjs/testing';
import { metrics } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { ResilienceModule } from '../../lib/index.js';

async function boot(config: Record<string, unknown>) {
  const moduleRef = await Test.createTestingModule({ imports: [ResilienceModule.forRoot(config)] }).compile();
  moduleRef.useLogger(false);
  await moduleRef.init();
  await moduleRef.close();
}

describe('metrics.provider and tracing settings', () => {
  it('refuses settings that contradict each other or cannot be honoured, naming them', async () => {
    await assert.rejects(
      boot({ metrics: { provider: 'opentelemetry' } }),
      /metrics\.provider: is 'opentelemetry' but no MeterProvider is registered/,
      'its instruments would be no-ops for good',
    );
    metrics.setGlobalMeterProvider(new MeterProvider());
    const cases: [Record<string, unknown>, RegExp][] = [
      [
        { metrics: { enabled: false, provider: 'opentelemetry' } },
        /metrics\.enabled: is false but metrics\.provider is 'opentelemetry'/,
      ],
      [
        { metrics: { provider: 'opentelemetry', prefix: 'app:' } },
        /metrics\.prefix: cannot hold ':' with provider 'opentelemetry'/,
      ],
      [{ metrics: { provider: 'statsd' } }, /metrics\.provider/],
      [
        { tracing: { enabled: false, attemptSpans: true } },
        /tracing\.attemptSpans: is true but tracing\.enabled is false/,
      ],
      [{ tracing: { spans: true } }, /tracing\.spans/],
    ];
    for (const [config, message] of cases) await assert.rejects(boot(config), message, JSON.stringify(config));
  });

  it('boots with each provider, and with none', async () => {
    for (const provider of ['prom-client', 'opentelemetry', 'none']) await boot({ metrics: { provider } });
    await boot({ metrics: { enabled: false, provider: 'none' }, tracing: { enabled: false } });
  });
});
