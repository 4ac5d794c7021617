// One replica of a service with fleet-wide chaos: `node chaos-replica-worker.js <redisUrl> <keyPrefix>`.
// A Nest app over real HTTP (Express): GET /charge runs a @Resilient('payment_gateway') method
// (no retry, no breaker: each request shows whether a fault was injected); the admin API at
// /ops. Sends { url } over IPC once it listens.
import 'reflect-metadata';
import { Controller, Get, Injectable, Module } from '@nestjs/common';
import { ResilienceModule, Resilient } from '../../lib/index.js';
import { ADMIN_TOKEN } from './admin-app.js';
import { serveReplica } from './replica-app.js';

const [redisUrl, keyPrefix] = process.argv.slice(2);

@Injectable()
class Payments {
  @Resilient('payment_gateway')
  async charge(): Promise<string> {
    return 'charged';
  }
}

@Controller()
class PaymentsController {
  constructor(private readonly payments: Payments) {}
  @Get('charge')
  charge() {
    return this.payments.charge();
  }
}

@Module({
  imports: [
    ResilienceModule.forRoot({
      redis: { url: redisUrl, keyPrefix },
      metrics: { enabled: false },
      admin: { enabled: true, path: '/ops', token: ADMIN_TOKEN },
      chaos: { enabled: true, syncInterval: '100ms' },
      services: {
        payment_gateway: {
          rate: { enabled: false },
          retry: { maxAttempts: 1 },
          circuit: { enabled: false },
          dlq: { enabled: false },
        },
      },
    }),
  ],
  controllers: [PaymentsController],
  providers: [Payments],
})
class ReplicaModule {}

await serveReplica(ReplicaModule);
