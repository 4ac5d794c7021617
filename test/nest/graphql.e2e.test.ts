import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { Injectable, type LoggerService, Module } from '@nestjs/common';
import { GraphQLModule, Query, Resolver } from '@nestjs/graphql';
import { MercuriusDriver, type MercuriusDriverConfig } from '@nestjs/mercurius';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { Bulkhead, CircuitBreaker, RateLimit, ResilienceModule } from '../../lib/index.js';

@Injectable()
class QuotesUpstream {
  @CircuitBreaker('gql_upstream', { failureThreshold: 1, timeout: '30s' })
  async fetch(): Promise<string> {
    throw Object.assign(new Error('upstream refused'), { code: 'ECONNREFUSED' });
  }
}

@Resolver()
class QuotesResolver {
  constructor(private readonly source: QuotesUpstream) {}

  @Query(() => String)
  @RateLimit({ name: 'gql_quote', rate: 1, per: 60, key: 'global' })
  quote(): string {
    return 'stay resilient';
  }

  /** Lets the held `slow` query finish. */
  static release: () => void = () => undefined;

  @Query(() => String)
  @Bulkhead({ name: 'gql_slow', maxConcurrent: 1 })
  async slow(): Promise<string> {
    await new Promise<void>((resolve) => {
      QuotesResolver.release = resolve;
    });
    return 'slow answer';
  }

  // Undecorated: it reaches the breaker through the provider it injects.
  @Query(() => String)
  upstream(): Promise<string> {
    return this.source.fetch();
  }
}

/** Collects what Nest logs, by level. */
class RecordingLogger implements LoggerService {
  readonly lines: { level: string; message: string }[] = [];
  log(message: unknown) {
    this.lines.push({ level: 'log', message: String(message) });
  }
  error(message: unknown) {
    this.lines.push({ level: 'error', message: String(message) });
  }
  warn(message: unknown) {
    this.lines.push({ level: 'warn', message: String(message) });
  }
}

const DRIVERS = {
  apollo: () => GraphQLModule.forRoot<ApolloDriverConfig>({ driver: ApolloDriver, autoSchemaFile: true }),
  mercurius: () => GraphQLModule.forRoot<MercuriusDriverConfig>({ driver: MercuriusDriver, autoSchemaFile: true }),
};

interface GraphQLResponse {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: { code?: string; retryAfter?: number } }[];
}

for (const [driver, graphqlModule] of Object.entries(DRIVERS)) {
  describe(`GraphQL with ${driver} (a real server, real HTTP)`, () => {
    it('answers rejections with extensions.code and retryAfter, and logs no ERROR', async () => {
      @Module({
        imports: [ResilienceModule.forRoot({ metrics: { enabled: false } }), graphqlModule()],
        providers: [QuotesResolver, QuotesUpstream],
      })
      class GraphQLAppModule {}
      const moduleRef = await Test.createTestingModule({ imports: [GraphQLAppModule] }).compile();
      const app =
        driver === 'mercurius'
          ? moduleRef.createNestApplication(new FastifyAdapter())
          : moduleRef.createNestApplication();
      const logger = new RecordingLogger();
      app.useLogger(logger);
      await app.listen(0, '127.0.0.1');
      const { port } = app.getHttpServer().address() as { port: number };
      const query = async (q: string): Promise<GraphQLResponse> => {
        const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: q }),
        });
        return (await response.json()) as GraphQLResponse;
      };
      try {
        assert.deepEqual((await query('{ quote }')).data, { quote: 'stay resilient' });
        const limited = await query('{ quote }');
        assert.equal(limited.errors?.[0]?.extensions?.code, 'TOO_MANY_REQUESTS', JSON.stringify(limited));
        const retryAfter = limited.errors?.[0]?.extensions?.retryAfter ?? 0;
        assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `retryAfter ${retryAfter}`);

        const failed = await query('{ upstream }');
        assert.notEqual(failed.errors?.[0]?.extensions?.code, 'SERVICE_UNAVAILABLE', 'the failure itself is not ours');
        const open = await query('{ upstream }');
        assert.equal(open.errors?.[0]?.extensions?.code, 'SERVICE_UNAVAILABLE', JSON.stringify(open));
        assert.equal(open.errors?.[0]?.extensions?.retryAfter, 30, 'the breaker opens for 30 s');

        const held = query('{ slow }');
        await new Promise((resolve) => setTimeout(resolve, 50));
        const full = await query('{ slow }');
        assert.equal(full.errors?.[0]?.extensions?.code, 'SERVICE_UNAVAILABLE', JSON.stringify(full));
        assert.equal(full.errors?.[0]?.extensions?.retryAfter, 1, 'a full bulkhead: retry after 1 s');
        QuotesResolver.release();
        assert.deepEqual((await held).data, { slow: 'slow answer' });

        const errors = logger.lines.filter((l) => l.level === 'error');
        const ours = errors.filter((l) => /rate limit|circuit|bulkhead|RateLimitExceeded|CircuitOpen/i.test(l.message));
        assert.deepEqual(ours, [], 'a rejection is no ERROR line');
      } finally {
        await app.close();
      }
    });
  });
}
