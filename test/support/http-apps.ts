import type { INestApplication, Type } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test, type TestingModuleBuilder } from '@nestjs/testing';

export type Platform = 'express' | 'fastify';
export const PLATFORMS: Platform[] = ['express', 'fastify'];

/** Boots a real Nest HTTP app on a free loopback port; returns it with its base URL. */
export async function startHttpApp(
  rootModule: Type<unknown>,
  platform: Platform,
  customize?: (builder: TestingModuleBuilder) => void,
  host = '127.0.0.1',
  beforeListen?: (app: INestApplication) => void,
): Promise<{ app: INestApplication; url: string }> {
  const builder = Test.createTestingModule({ imports: [rootModule] });
  customize?.(builder);
  const moduleRef = await builder.compile();
  const app =
    platform === 'fastify' ? moduleRef.createNestApplication(new FastifyAdapter()) : moduleRef.createNestApplication();
  app.useLogger(false);
  beforeListen?.(app);
  await app.listen(0, host);
  const address = app.getHttpServer().address() as { port: number };
  return { app, url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}` };
}
