import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { AppModule } from './app.module.js';
import { startOpenTelemetryMetrics } from './telemetry.js';

/** Starts the sample app (PLATFORM=fastify for Fastify); returns it and its URL. */
export async function startSampleApp(port = Number(process.env.PORT ?? 3000), quiet = false) {
  const options = quiet ? { logger: ['warn', 'error'] as ('warn' | 'error')[] } : {};
  const telemetry = await startOpenTelemetryMetrics();
  const app =
    process.env.PLATFORM === 'fastify'
      ? await NestFactory.create(AppModule, new FastifyAdapter(), options)
      : await NestFactory.create(AppModule, options);
  app.enableShutdownHooks();
  if (telemetry) {
    // The exporter's own server closes with the app.
    const close = app.close.bind(app);
    app.close = async () => {
      await close();
      await telemetry.stop();
    };
  }
  await app.listen(port, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return { app, url: `http://127.0.0.1:${address.port}` };
}

/**
 * The admin API (the flaky downstream) and the console need ADMIN_TOKEN. Run by
 * hand with none set, the app makes one for this run and prints it with the commands
 * that drive it, so `npm start` can be explored with no set-up.
 */
function adminToken(): { token: string; generated: boolean } {
  if (process.env.ADMIN_TOKEN) return { token: process.env.ADMIN_TOKEN, generated: false };
  process.env.ADMIN_TOKEN = randomBytes(16).toString('hex');
  return { token: process.env.ADMIN_TOKEN, generated: true };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')) {
  const { token, generated } = adminToken();
  const { url } = await startSampleApp();
  const auth = `-H 'Authorization: Bearer ${token}'`;
  console.log(`nest-resilience sample app listening on ${url}`);
  console.log(
    [
      generated ? 'ADMIN_TOKEN was not set: this run uses a generated one.' : 'Admin API: your ADMIN_TOKEN.',
      `Console: ${url}/resilience (token: ${token})`,
      'Drive it:',
      `  curl -X POST ${url}/payments -H 'content-type: application/json' -d '{"orderId":"o-1","amount":10}'`,
      `  curl -X PUT ${url}/admin/downstream ${auth} -H 'content-type: application/json' -d '{"failureRate":1}'   # an outage`,
      `  curl ${url}/health   ·   curl ${url}/metrics`,
      `  curl ${url}/resilience/dlq/payment_gateway ${auth}   ·   curl -X POST ${url}/resilience/dlq/payment_gateway/replay ${auth} -H 'content-type: application/json' -d '{}'`,
      `  curl -X PUT ${url}/admin/downstream ${auth} -H 'content-type: application/json' -d '{"failureRate":0}'   # recovery`,
    ].join('\n'),
  );
}
