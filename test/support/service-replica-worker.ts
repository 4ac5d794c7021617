// One replica of a fleet: `node service-replica-worker.js <redisUrl> <keyPrefix> <options JSON>`,
// options `{ service, path, failRate?, config }`. A Nest app over real HTTP (Express): GET /<path>
// runs a @Resilient(service) method whose dependency fails `failRate` of calls (ECONNREFUSED, a
// 500 from the route; 503 when a pattern turns it away); the admin API at /ops; the module takes
// Redis, the admin settings and `config` (chaos, reload, services...). Sends { url } over IPC.
import 'reflect-metadata';
import { Controller, Get, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ResilienceModule, Resilient } from '../../lib/index.js';
import { ADMIN_TOKEN } from './admin-app.js';

const [redisUrl, keyPrefix, optionsJson] = process.argv.slice(2);
const options = JSON.parse(optionsJson as string) as {
  service: string;
  path: string;
  failRate?: number;
  config: Record<string, unknown>;
};

@Injectable()
class Dependency {
  @Resilient(options.service)
  async call(): Promise<string> {
    if (Math.random() < (options.failRate ?? 0))
      throw Object.assign(new Error(`${options.service} refused`), { code: 'ECONNREFUSED' });
    return 'done';
  }
}

@Controller()
class DependencyController {
  constructor(private readonly dependency: Dependency) {}
  @Get(options.path)
  call() {
    return this.dependency.call();
  }
}

@Module({
  imports: [
    ResilienceModule.forRoot({
      redis: { url: redisUrl, keyPrefix },
      metrics: { enabled: false },
      admin: { enabled: true, path: '/ops', token: ADMIN_TOKEN },
      ...options.config,
    }),
  ],
  controllers: [DependencyController],
  providers: [Dependency],
})
class ReplicaModule {}

const app = await NestFactory.create(ReplicaModule, { logger: false });
await app.listen(0, '127.0.0.1');
const { port } = app.getHttpServer().address() as { port: number };
process.send?.({ url: `http://127.0.0.1:${port}` });
