import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { AppModule } from './app.module.js';

/** Starts the sample app (PLATFORM=fastify for Fastify); returns it and its URL. */
export async function startSampleApp(port = Number(process.env.PORT ?? 3000), quiet = false) {
  const options = quiet ? { logger: ['warn', 'error'] as ('warn' | 'error')[] } : {};
  const app =
    process.env.PLATFORM === 'fastify'
      ? await NestFactory.create(AppModule, new FastifyAdapter(), options)
      : await NestFactory.create(AppModule, options);
  app.enableShutdownHooks();
  await app.listen(port, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return { app, url: `http://127.0.0.1:${address.port}` };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')) {
  const { url } = await startSampleApp();
  console.log(`nest-resilience sample app listening on ${url}`);
}
