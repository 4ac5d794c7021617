import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Redis } from 'ioredis';
import {
  createRedisClient,
  type DeadLetterBackend,
  DeadLetterQueue,
  type DeadLetterRecord,
  FileDeadLetterBackend,
  LetterCodec,
  letterId,
  MemoryDeadLetterBackend,
  RedisDeadLetterBackend,
} from '../lib/index.js';
import { throughput } from './harness.js';
import { startBenchRedis } from './redis-server.js';

const run = promisify(execFile);
const gc = () => (globalThis as { gc?: () => void }).gc?.();

const input = (i: number) => ({ args: [{ order: i, note: 'x'.repeat(200) }], error: new Error('gateway down') });

function letter(i: number, now: number): DeadLetterRecord {
  return {
    id: letterId(now),
    queue: 'bench',
    source: { service: 'bench' },
    args: [i],
    error: { name: 'Error', message: 'down' },
    attempts: 1,
    history: [],
    firstFailedAt: now,
    lastFailedAt: now,
    reason: 'failed',
    replays: 0,
    status: 'pending',
    createdAt: now,
  };
}

/**
 * Page and size cost of two queues, 1,000 and 1,000,000 letters, measured alternately
 * (so drift hits both alike): median microseconds of 1,000 calls each.
 */
async function pageAndSize(
  make: (name: string) => DeadLetterBackend,
  fill: (backend: DeadLetterBackend, n: number) => Promise<void>,
) {
  const sizes = [1_000, 1_000_000];
  const queues = new Map<number, DeadLetterQueue>();
  for (const n of sizes) {
    const backend = make(`q${n}`);
    await backend.purge();
    await fill(backend, n);
    queues.set(n, new DeadLetterQueue({ name: `q${n}`, backend }));
  }
  const samples = new Map<string, number[]>();
  const time = async (key: string, op: () => Promise<unknown>) => {
    const started = process.hrtime.bigint();
    await op();
    const list = samples.get(key) ?? [];
    list.push(Number(process.hrtime.bigint() - started) / 1000);
    samples.set(key, list);
  };
  for (let i = 0; i < 1000; i++) {
    for (const n of sizes) {
      const q = queues.get(n) as DeadLetterQueue;
      await time(`page${n}`, () => q.list({ limit: 50 }));
      await time(`size${n}`, () => q.size());
    }
  }
  const median = (key: string) => {
    const xs = (samples.get(key) as number[]).sort((a, b) => a - b);
    return xs[xs.length >> 1];
  };
  const out: Record<number, { page: number; size: number }> = {};
  for (const n of sizes) out[n] = { page: median(`page${n}`), size: median(`size${n}`) };
  for (const q of queues.values()) {
    await q.purge();
    await q.close();
  }
  gc();
  return out;
}

export async function benchDeadLetter(): Promise<string> {
  const lines = ['### Dead-letter queue (issue 6)', ''];
  const dir = mkdtempSync(join(tmpdir(), 'bench-dlq-'));
  const server = await startBenchRedis();
  let client: Redis | undefined;
  try {
    // File: group commit versus one fdatasync per add, 64 producers.
    const fileQueue = new DeadLetterQueue({
      name: 'f',
      backend: new FileDeadLetterBackend({ filePath: join(dir, 'group') }),
    });
    let i = 0;
    const grouped = await throughput(() => fileQueue.add(input(i++)), 64, 3000);
    const syncs = (fileQueue.backend as FileDeadLetterBackend).stats().syncs;
    await fileQueue.close();
    // The baseline: the same log without grouping. Adds are written and synced one at a
    // time (a log has one writer), each fdatasync'ed before it resolves.
    const handle = await open(join(dir, 'baseline.log'), 'a');
    const codec = new LetterCodec();
    let tail: Promise<unknown> = Promise.resolve();
    const baseline = await throughput(
      () => {
        const record = `${codec.encode(letter(i++, Date.now()))}\n`;
        tail = tail.then(async () => {
          await handle.write(record);
          await handle.datasync();
        });
        return tail;
      },
      64,
      3000,
    );
    await handle.close();

    // Redis: adds through the backend versus redis-benchmark running the same script.
    client = await createRedisClient({ url: server.url, commandTimeout: '10s' });
    const redisQueue = new DeadLetterQueue({ name: 'r', backend: new RedisDeadLetterBackend({ client, queue: 'r' }) });
    const redisAdds = await throughput(() => redisQueue.add(input(i++)), 64, 3000);
    const body = codec.encode(letter(0, Date.now()));
    const sha = (await client.script(
      'LOAD',
      "redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) redis.call('ZADD', KEYS[2], 0, ARGV[1]) return 1",
    )) as string;
    const { stdout } = await run('redis-benchmark', [
      '-p',
      String(server.port),
      '-c',
      '64',
      '-n',
      '200000',
      '-r',
      '100000000',
      '-q',
      'evalsha',
      sha,
      '2',
      '{dlq:rb}:letters',
      '{dlq:rb}:ids',
      'id:__rand_int__',
      body,
    ]);
    const ceiling = Number(/([\d.]+) requests per second/.exec(stdout)?.[1] ?? Number.NaN);

    lines.push(
      `File group commit: ${((grouped * 3) / syncs).toFixed(1)} adds per fdatasync on average.`,
      '',
      '| case | adds/s |',
      '|---|---:|',
      `| file backend, group commit, 64 producers, every add fdatasync'ed before it resolves | ${Math.round(grouped)} |`,
      `| baseline: the same log, one write + fdatasync per add (serialized), 64 producers | ${Math.round(baseline)} |`,
      `| Redis backend, 64 producers | ${Math.round(redisAdds)} |`,
      `| redis-benchmark -c 64, EVALSHA of HSET + ZADD with the same body | ${Math.round(ceiling)} |`,
      '',
    );

    // Page and size cost, 1,000 versus 1,000,000 letters.
    const memory = await pageAndSize(
      () => new MemoryDeadLetterBackend(),
      async (b, n) => {
        const now = Date.now();
        for (let k = 0; k < n; k++) await b.add(letter(k, now));
      },
    );
    const redisCost = await pageAndSize(
      (name) => new RedisDeadLetterBackend({ client: client as Redis, queue: name }),
      async (_b, n) => {
        const now = Date.now();
        for (let k = 0; k < n; k += 5000) {
          const pipeline = (client as Redis).pipeline();
          for (let j = k; j < Math.min(n, k + 5000); j++) {
            const l = letter(j, now);
            pipeline.hset(`{dlq:q${n}}:letters`, l.id, codec.encode(l));
            pipeline.zadd(`{dlq:q${n}}:ids`, 0, l.id);
          }
          await pipeline.exec();
        }
      },
    );
    lines.push(
      '| backend | list one page (50), 1,000 letters | same, 1,000,000 letters | size(), 1,000 | size(), 1,000,000 |',
      '|---|---:|---:|---:|---:|',
      `| memory | ${memory[1000].page.toFixed(0)} us | ${memory[1_000_000].page.toFixed(0)} us | ${memory[1000].size.toFixed(2)} us | ${memory[1_000_000].size.toFixed(2)} us |`,
      `| Redis | ${redisCost[1000].page.toFixed(0)} us | ${redisCost[1_000_000].page.toFixed(0)} us | ${redisCost[1000].size.toFixed(0)} us | ${redisCost[1_000_000].size.toFixed(0)} us |`,
      '',
    );

    // File backend memory: the index, not the bodies.
    gc();
    const before = process.memoryUsage().heapUsed;
    const indexed = new FileDeadLetterBackend({ filePath: join(dir, 'heap') });
    const heapQueue = new DeadLetterQueue({ name: 'h', backend: indexed });
    const big = 'y'.repeat(2000);
    for (let k = 0; k < 100_000; k += 1000) {
      await Promise.all(
        Array.from({ length: 1000 }, (_, j) => heapQueue.add({ args: [k + j, big], error: new Error('x') })),
      );
    }
    gc();
    const perLetter = (process.memoryUsage().heapUsed - before) / 100_000;
    const fileStats = indexed.stats();
    await heapQueue.close();

    const ratio = (a: number, b: number) => (a / b).toFixed(2);
    lines.push(
      `File backend heap: ${perLetter.toFixed(0)} B per letter for 100,000 letters of ${Math.round(fileStats.liveBytes / 100_000)} B on disk each.`,
      '',
      '| target | ratio | limit | met |',
      '|---|---:|---:|:---:|',
      `| file: group commit / fsync-per-add (at least) | ${ratio(grouped, baseline)} | 20 | ${grouped / baseline >= 20 ? 'yes' : 'NO'} |`,
      `| Redis adds / redis-benchmark (at least) | ${ratio(redisAdds, ceiling)} | 0.5 | ${redisAdds / ceiling >= 0.5 ? 'yes' : 'NO'} |`,
      `| memory: page at 1,000,000 / at 1,000 (at most) | ${ratio(memory[1_000_000].page, memory[1000].page)} | 1.5 | ${memory[1_000_000].page / memory[1000].page <= 1.5 ? 'yes' : 'NO'} |`,
      `| Redis: page at 1,000,000 / at 1,000 (at most) | ${ratio(redisCost[1_000_000].page, redisCost[1000].page)} | 1.5 | ${redisCost[1_000_000].page / redisCost[1000].page <= 1.5 ? 'yes' : 'NO'} |`,
      `| Redis: size at 1,000,000 / at 1,000 (at most) | ${ratio(redisCost[1_000_000].size, redisCost[1000].size)} | 1.5 | ${redisCost[1_000_000].size / redisCost[1000].size <= 1.5 ? 'yes' : 'NO'} |`,
      `| file: heap per letter / bytes per letter on disk (at most) | ${ratio(perLetter, fileStats.liveBytes / 100_000)} | 0.25 | ${perLetter / (fileStats.liveBytes / 100_000) <= 0.25 ? 'yes' : 'NO'} |`,
    );
    return lines.join('\n');
  } finally {
    client?.disconnect();
    server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
