import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ThrottlerStorageService } from '@nestjs/throttler';
import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import { createRedisClient, MemoryRateLimitStore, RateLimiter, RedisRateLimitStore } from '../lib/index.js';
import { RATE_LIMIT_LUA } from '../lib/redis/rate-limit.lua.js';
import { check, formatTable, type Measured, measure, throughput } from './harness.js';
import { startBenchRedis } from './redis-server.js';

const run = promisify(execFile);
const noop = () => {};
const gc = () => (globalThis as { gc?: () => void }).gc?.();
const KEYS = Array.from({ length: 100_000 }, (_, i) => `user-${i}`);

export async function benchRateLimiterMemory(): Promise<string> {
  const ours = new RateLimiter({ name: 'hot', rate: 1e12, per: 3600 });
  const oursMany = new RateLimiter({ name: 'many', rate: 1e12, per: 3600 });
  const oursDeny = new RateLimiter({ name: 'deny', rate: 1, per: 3600 });
  await oursDeny.consume('k');
  const rlf = new RateLimiterMemory({ points: 1e12, duration: 3600 });
  const rlfMany = new RateLimiterMemory({ points: 1e12, duration: 3600 });
  const rlfDeny = new RateLimiterMemory({ points: 1, duration: 3600 });
  await rlfDeny.consume('k');
  const throttler = new ThrottlerStorageService();
  for (let i = 0; i < 1000; i++) await throttler.increment('busy', 3_600_000, 1e9, 0, 'default');

  const results = await measure(
    {
      'ours: allow, hot key': async (n) => {
        for (let i = 0; i < n; i++) await ours.consume('hot');
      },
      'rate-limiter-flexible: allow, hot key': async (n) => {
        for (let i = 0; i < n; i++) await rlf.consume('hot');
      },
      'ours: allow over 100,000 keys': async (n) => {
        for (let i = 0; i < n; i++) await oursMany.consume(KEYS[i % 100_000]);
      },
      'rate-limiter-flexible: allow over 100,000 keys': async (n) => {
        for (let i = 0; i < n; i++) await rlfMany.consume(KEYS[i % 100_000]);
      },
      'ours: deny (consume returns a verdict)': async (n) => {
        for (let i = 0; i < n; i++) await oursDeny.consume('k');
      },
      'rate-limiter-flexible: deny (rejects)': async (n) => {
        for (let i = 0; i < n; i++) await rlfDeny.consume('k').catch(noop);
      },
      '@nestjs/throttler storage: busy key, 1,000+ hits in window': async (n) => {
        for (let i = 0; i < n / 100; i++) await throttler.increment('busy', 3_600_000, 1e9, 0, 'default');
      },
    },
    { iterations: 100_000, rounds: 7 },
  );
  results['@nestjs/throttler storage: busy key, 1,000+ hits in window'].nsPerOp *= 100;
  throttler.onApplicationShutdown?.();

  const heap = await heapPerKey();
  const r = (name: string) => results[name];
  const table = formatTable('Rate limiter, memory store (issue 5)', { ...results, ...heap.rows }, [
    check(
      'allow, hot key: ours / rate-limiter-flexible',
      r('ours: allow, hot key'),
      r('rate-limiter-flexible: allow, hot key'),
      0.5,
    ),
    check(
      'allow over 100,000 keys: ours / rate-limiter-flexible',
      r('ours: allow over 100,000 keys'),
      r('rate-limiter-flexible: allow over 100,000 keys'),
      0.5,
    ),
    check('deny / allow (ours, hot key)', r('ours: deny (consume returns a verdict)'), r('ours: allow, hot key'), 1.0),
    { target: 'heap per key after 1,000,000 keys (bytes; limit 150)', ratio: heap.ours, limit: 150 },
  ]);
  return `${table}\n\nHeap per key after 1,000,000 keys: ours ${heap.ours.toFixed(0)} B, rate-limiter-flexible ${heap.rlf.toFixed(0)} B (key strings included in both). Timers per key: ours ${heap.oursTimers}, rate-limiter-flexible ${heap.rlfTimers}.`;
}

function activeTimers(): number {
  return (process as unknown as { getActiveResourcesInfo(): string[] })
    .getActiveResourcesInfo()
    .filter((r) => r === 'Timeout').length;
}

async function heapPerKey(): Promise<{
  ours: number;
  rlf: number;
  oursTimers: number;
  rlfTimers: number;
  rows: Record<string, Measured>;
}> {
  const count = 1_000_000;
  const measureOne = async (fill: (keys: string[]) => Promise<void>) => {
    gc();
    const timersBefore = activeTimers();
    const before = process.memoryUsage().heapUsed;
    const keys = Array.from({ length: count }, (_, i) => `client-${i}`);
    await fill(keys);
    keys.length = 0;
    gc();
    const bytes = (process.memoryUsage().heapUsed - before) / count;
    return { bytes, timers: activeTimers() - timersBefore };
  };
  const store = new MemoryRateLimitStore({ maxKeys: count });
  const limiter = new RateLimiter({ name: 'heap', rate: 10, per: 3600, store });
  const ours = await measureOne(async (keys) => {
    for (const k of keys) await limiter.consume(k);
  });
  const rlfLimiter = new RateLimiterMemory({ points: 10, duration: 3600 });
  const rlf = await measureOne(async (keys) => {
    for (const k of keys) await rlfLimiter.consume(k);
  });
  // Keep both alive until measured.
  if (store.size('heap') !== count) throw new Error('store lost keys');
  void rlfLimiter;
  return {
    ours: ours.bytes,
    rlf: rlf.bytes,
    oursTimers: ours.timers,
    rlfTimers: rlf.timers,
    rows: {},
  };
}

function row(target: string, ratio: number, atLeast: number): string {
  return `| ${target} | ${ratio.toFixed(2)} | ${atLeast} | ${ratio >= atLeast ? 'yes' : 'NO'} |`;
}

export async function benchRateLimiterRedis(): Promise<string> {
  const server = await startBenchRedis();
  try {
    const client = await createRedisClient({ url: server.url, commandTimeout: '5s' });
    const ours = new RateLimiter({
      name: 'bench',
      rate: 1e12,
      per: 3600,
      store: new RedisRateLimitStore({ client, keyPrefix: 'ours' }),
    });
    const rlfClient = new Redis(server.url, { enableOfflineQueue: false });
    await new Promise((resolve) => rlfClient.once('ready', resolve));
    const rlf = new RateLimiterRedis({ storeClient: rlfClient, points: 1e9, duration: 3600, keyPrefix: 'rlf' });
    const bare = new Redis(server.url);
    const sha = (await bare.script('LOAD', RATE_LIMIT_LUA)) as string;
    // One decision per call: 1 rule definition (token bucket), 1 group of 1 consume of cost 1 over rule 1.
    const oneDecision = ['1', '1', String(1e12), '3600000', String(1e12), '1', '1', '1', '1', '1', '1'];
    const concurrency = 64;
    const ms = 4000;
    const rows: Record<string, Measured> = {};
    const add = (name: string, perSecond: number) => {
      rows[name] = { name, nsPerOp: 1e9 / perSecond };
    };
    // Warm up all three.
    await throughput(() => ours.consume('k'), concurrency, 500);
    await throughput(() => rlf.consume('k'), concurrency, 500);
    await throughput(() => bare.evalsha(sha, 1, '{bare:k}:x', ...oneDecision), concurrency, 500);
    const oursRate = await throughput(() => ours.consume('k'), concurrency, ms);
    const rlfRate = await throughput(() => rlf.consume('k'), concurrency, ms);
    let i = 0;
    const spread = () => {
      i = (i + 7919) % 10_000;
      return KEYS[i];
    };
    const oursSpread = await throughput(() => ours.consume(spread()), concurrency, ms);
    const rlfSpread = await throughput(() => rlf.consume(spread()), concurrency, ms);
    const bareRate = await throughput(() => bare.evalsha(sha, 1, '{bare:k}:x', ...oneDecision), concurrency, ms);
    const { stdout } = await run('redis-benchmark', [
      '-p',
      String(server.port),
      '-c',
      '64',
      '-P',
      '16',
      '-n',
      '400000',
      '-q',
      'evalsha',
      sha,
      '1',
      '{rb:k}:x',
      ...oneDecision,
    ]);
    const ceiling = Number(/([\d.]+) requests per second/.exec(stdout)?.[1] ?? Number.NaN);
    add('ours: RedisRateLimitStore, one key (one connection, 64 callers)', oursRate);
    add('rate-limiter-flexible RateLimiterRedis, one key (same)', rlfRate);
    add('ours: over 10,000 keys (same)', oursSpread);
    add('rate-limiter-flexible: over 10,000 keys (same)', rlfSpread);
    add('bare ioredis EVALSHA of the same script, one decision per call (same)', bareRate);
    add('redis-benchmark -c 64 -P 16 EVALSHA (server ceiling)', ceiling);
    client.disconnect();
    rlfClient.disconnect();
    bare.disconnect();
    const lines = [
      '### Rate limiter, Redis store (issue 5)',
      '',
      '| case | decisions/s |',
      '|---|---:|',
      ...Object.values(rows).map((r) => `| ${r.name} | ${Math.round(1e9 / r.nsPerOp).toLocaleString('en-US')} |`),
      '',
      '| target (at least) | ratio | limit | met |',
      '|---|---:|---:|:---:|',
      row('one key: ours / rate-limiter-flexible', oursRate / rlfRate, 1.5),
      row('10,000 keys: ours / rate-limiter-flexible', oursSpread / rlfSpread, 1.5),
      row('one key: ours / redis-benchmark -P 16 ceiling', oursRate / ceiling, 0.7),
      row('10,000 keys: ours / redis-benchmark -P 16 ceiling', oursSpread / ceiling, 0.7),
    ];
    return lines.join('\n');
  } finally {
    server.stop();
  }
}
