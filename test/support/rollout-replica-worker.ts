// One replica of a fleet running a progressive rollout together:
// `node rollout-replica-worker.js <redisUrl> <keyPrefix> <rollout arm settings JSON>`.
// GET /orders runs a @Resilient('orders') method whose dependency fails 1% of calls (500; 503
// when a breaker turns it away); the admin API at /ops shows the rollout. Sends { url } over IPC.
import 'reflect-metadata';
import { Controller, Get, Injectable, Module } from '@nestjs/common';
import { ResilienceModule, Resilient } from '../../lib/index.js';
import { ADMIN_TOKEN } from './admin-app.js';
import { serveReplica } from './replica-app.js';

const [redisUrl, keyPrefix, armJson] = process.argv.slice(2);

@Injectable()
class Orders {
  @Resilient('orders')
  async place(): Promise<string> {
    if (Math.random() < 0.01) throw Object.assign(new Error('orders store refused'), { code: 'ECONNREFUSED' });
    return 'placed';
  }
}

@Controller()
class OrdersController {
  constructor(private readonly orders: Orders) {}
  @Get('orders')
  place() {
    return this.orders.place();
  }
}

@Module({
  imports: [
    ResilienceModule.forRoot({
      redis: { url: redisUrl, keyPrefix },
      metrics: { enabled: false },
      admin: { enabled: true, path: '/ops', token: ADMIN_TOKEN },
      services: {
        orders: {
          circuit: { failureThreshold: 5, timeout: 10 },
          retry: { maxAttempts: 1 },
          rate: { enabled: false },
          dlq: { enabled: false },
          rollout: {
            steps: [10, 50, 100],
            interval: '1500ms',
            // 100 calls an arm at 1% errors: a 5-point margin is about 5 standard errors of the
            // difference, so a good arm is never rolled back by chance; a flapping one far exceeds it.
            analysis: { minCalls: 100, maxFailureRateIncrease: 0.05, maxRejectionRateIncrease: 0.05 },
            ...JSON.parse(armJson as string),
          },
        },
      },
    }),
  ],
  controllers: [OrdersController],
  providers: [Orders],
})
class ReplicaModule {}

await serveReplica(ReplicaModule);
