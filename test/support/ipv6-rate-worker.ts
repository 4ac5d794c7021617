// Runs inside a fresh network namespace (unshare --net): gives its loopback real IPv6
// addresses in two /64 networks, boots a Nest app on the dual-stack address '::', and
// calls it from each source address, so the server sees the remote addresses a real
// socket reports. Prints one JSON line: the status of every call, by route and source.
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { request } from 'node:http';
import { Controller, Get, Module } from '@nestjs/common';
import { RateLimit, RateLimiterService, ResilienceModule } from '../../lib/index.js';
import { type Platform, startHttpApp } from './http-apps.js';

const SOURCES = ['2001:db8:1:2::a', '2001:db8:1:2::b', '2001:db8:1:2:ffff::c', '2001:db8:1:3::a'];

@Controller()
class IpController {
  @Get('by-prefix')
  @RateLimit({ name: 'by_prefix', rate: 2, per: 60, burst: 0, key: 'ip' })
  byPrefix() {
    return 'ok';
  }

  @Get('by-address')
  @RateLimit({ name: 'by_address', rate: 2, per: 60, burst: 0, key: 'ip', ipv6Subnet: 128 })
  byAddress() {
    return 'ok';
  }
}

@Module({ imports: [ResilienceModule.forRoot({})], controllers: [IpController] })
class AppModule {}

function call(port: number, host: string, path: string, localAddress?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, localAddress, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

execFileSync('ip', ['link', 'set', 'lo', 'up']);
for (const address of SOURCES) execFileSync('ip', ['-6', 'addr', 'add', `${address}/128`, 'dev', 'lo', 'nodad']);

const platform = process.argv[2] as Platform;
const { app } = await startHttpApp(AppModule, platform, undefined, '::');
const port = (app.getHttpServer().address() as { port: number }).port;
const statuses: Record<string, Record<string, number[]>> = {};
for (const path of ['/by-prefix', '/by-address']) {
  const byRoute: Record<string, number[]> = {};
  for (const source of SOURCES) {
    const codes: number[] = [];
    for (let i = 0; i < 2; i++) codes.push(await call(port, '2001:db8:1:2::a', path, source));
    byRoute[source] = codes;
  }
  statuses[path] = byRoute;
}
// An IPv4 client of a dual-stack server: the socket says ::ffff:127.0.0.1.
const v4 = [await call(port, '127.0.0.1', '/by-prefix'), await call(port, '127.0.0.1', '/by-prefix')];
const limiter = app.get(RateLimiterService);
const v4Remaining = (await limiter.check('by_prefix', 'ip:127.0.0.1')).remaining;
process.stdout.write(`${JSON.stringify({ statuses, v4, v4Remaining })}\n`);
await app.close();
