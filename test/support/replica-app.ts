import type { Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';

/** Serves `module` over real HTTP (Express) on a free loopback port and tells the parent its URL over IPC. */
export async function serveReplica(module: Type<unknown>): Promise<void> {
  const app = await NestFactory.create(module, { logger: false });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  process.send?.({ url: `http://127.0.0.1:${port}` });
}
