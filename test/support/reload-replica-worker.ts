// One replica of a fleet that reloads together: `node reload-replica-worker.js <redisUrl> <keyPrefix>`.
// A Nest app over real HTTP (Express) with the admin API at /ops and a @Resilient('catalog')
// route at GET /items; configuration reloads travel through Redis. Sends { url } over IPC.
import 'reflect-metadata';
import { Controller, Get, Injectable, Module } from '@nestjs/common';
import { ResilienceModule, Resilient } from '../../lib/index.js';
import { ADMIN_TOKEN } from './admin-app.js';
import { serveReplica } from './replica-app.js';

const [redisUrl, keyPrefix] = process.argv.slice(2);

@Injectable()
class Catalog {
  @Resilient('catalog')
  async list(): Promise<string> {
    return 'items';
  }
}

@Controller()
class CatalogController {
  constructor(private readonly catalog: Catalog) {}
  @Get('items')
  items() {
    return this.catalog.list();
  }
}

@Module({
  imports: [
    ResilienceModule.forRoot({
      redis: { url: redisUrl, keyPrefix },
      metrics: { enabled: false },
      admin: { enabled: true, path: '/ops', token: ADMIN_TOKEN },
      reload: { syncInterval: '500ms' },
      services: { catalog: { retry: { maxAttempts: 2 }, rate: { enabled: false }, dlq: { enabled: false } } },
    }),
  ],
  controllers: [CatalogController],
  providers: [Catalog],
})
class ReplicaModule {}

await serveReplica(ReplicaModule);
