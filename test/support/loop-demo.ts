// The live half of docs/tuning.md's whole loop, on virtual time: `node dist/test/support/loop-demo.js`.
// A service whose dependency fails 2% of calls (seeded) gets a proposal as a rollout arm through a
// reload; 6,000 calls a minute; the module's log shows the reload and each judgment.
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { RESILIENCE_CLOCK, ResilienceModule, ResilienceSettings, Resilient, RolloutShares } from '../../lib/index.js';
import { seeded } from './overload-simulation.js';
import { TimedClock } from './timed-clock.js';

const random = seeded(7);

@Injectable()
class Payments {
  @Resilient('payment_gateway')
  async charge(): Promise<string> {
    if (random() < 0.02) throw Object.assign(new Error('gateway refused'), { code: 'ECONNREFUSED' });
    return 'charged';
  }
}

const service = {
  circuit: { failureThreshold: 10, timeout: 60 },
  retry: { maxAttempts: 1 },
  rate: { enabled: false },
  dlq: { enabled: false },
};

@Module({
  imports: [ResilienceModule.forRoot({ metrics: { enabled: false }, services: { payment_gateway: service } })],
  providers: [Payments],
})
class AppModule {}

const [arm = '{"circuit":{"failureThreshold":1,"timeout":60}}'] = process.argv.slice(2);
const clock = new TimedClock();
const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
  .overrideProvider(RESILIENCE_CLOCK)
  .useValue(clock)
  .compile();
const app = moduleRef.createNestApplication();
// The module's own lines, without Nest's: what an operator reads in the log.
app.useLogger({
  log: (message: unknown, context?: string) => context === 'Resilience' && process.stdout.write(`${message}\n`),
  warn: (message: unknown, context?: string) => context === 'Resilience' && process.stdout.write(`${message}\n`),
  error: (message: unknown) => process.stderr.write(`${message}\n`),
});
await app.init();
const rollout = { ...JSON.parse(arm), steps: [5, 25, 50, 100], interval: '5m', analysis: { minCalls: 200 } };
app.get(ResilienceSettings).reload({ services: { payment_gateway: { ...service, rollout } } }, 'proposal.yaml');
const payments = app.get(Payments);
for (let minute = 0; minute < 20; minute++) {
  for (let i = 0; i < 100; i++) {
    for (let j = 0; j < 60; j++) await payments.charge().catch(() => undefined);
    await clock.advance(600);
  }
}
process.stdout.write(`after 20 minutes: ${app.get(RolloutShares).percent('payment_gateway')}% on the rollout arm\n`);
await app.close();
