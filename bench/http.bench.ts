import { fork } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const SECONDS = Number(process.env.HTTP_BENCH_SECONDS ?? 10);

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Requests per second of one server variant (in its own process) under autocannon. */
async function requestsPerSecond(variant: string): Promise<{ average: number; first: number; last: number }> {
  const port = await freePort();
  const server = fork(fileURLToPath(new URL('./http-server.js', import.meta.url)), [variant, String(port)], {
    stdio: 'inherit',
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('message', () => resolve());
      server.once('exit', (code) => reject(new Error(`server ${variant} exited with ${code}`)));
    });
    const url = `http://127.0.0.1:${port}/hello`;
    await autocannon({ url, connections: 50, duration: 2 });
    const perSecond: number[] = [];
    const result = await new Promise<autocannon.Result>((resolve, reject) => {
      const instance = autocannon({ url, connections: 50, duration: SECONDS }, (error, r) =>
        error ? reject(error) : resolve(r),
      );
      (instance as unknown as NodeJS.EventEmitter).on('tick', (counter: { counter: number }) =>
        perSecond.push(counter.counter),
      );
    });
    perSecond.pop(); // the last tick may be a partial second
    const third = Math.max(1, Math.floor(perSecond.length / 3));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    return {
      average: result.requests.average,
      first: mean(perSecond.slice(0, third)),
      last: mean(perSecond.slice(-third)),
    };
  } finally {
    server.kill();
  }
}

export async function benchHttp(variants = ['bare', 'plain', 'rate-limit', 'throttler', 'resilient']): Promise<string> {
  const results: Record<string, { average: number; first: number; last: number }> = {};
  for (const variant of variants) results[variant] = await requestsPerSecond(variant);
  const plain = results.plain.average;
  const label: Record<string, string> = {
    bare: 'route in an app without nest-resilience (reference)',
    plain: 'route without limits (our module loaded)',
    'rate-limit': 'same route with @RateLimit (60 s window, one key)',
    throttler: 'same route behind @nestjs/throttler ThrottlerGuard (60 s ttl, one key)',
    resilient: 'same route with @Resilient (limiter, breaker, retry, dead letter)',
  };
  const lines = [
    `### HTTP, Express, autocannon 50 connections, ${SECONDS} s per case (issues 5 and 7)`,
    '',
    '| case | req/s (mean) | first third | last third |',
    '|---|---:|---:|---:|',
    ...variants.map(
      (v) =>
        `| ${label[v]} | ${Math.round(results[v].average)} | ${Math.round(results[v].first)} | ${Math.round(results[v].last)} |`,
    ),
    '',
    '| target (at least) | ratio | limit | met |',
    '|---|---:|---:|:---:|',
  ];
  const row = (target: string, ratio: number, limit: number) =>
    lines.push(`| ${target} | ${ratio.toFixed(3)} | ${limit} | ${ratio >= limit ? 'yes' : 'NO'} |`);
  if (results['rate-limit']) row('@RateLimit / plain', results['rate-limit'].average / plain, 0.9);
  if (results.throttler) row('throttler / plain (reference)', results.throttler.average / plain, 0);
  if (results.bare) row('plain with our module / app without it (reference)', plain / results.bare.average, 0);
  if (results.resilient) {
    row('@Resilient / plain', results.resilient.average / plain, 0.9);
    if (results.throttler) row('@Resilient / throttler', results.resilient.average / results.throttler.average, 1);
  }
  return lines.join('\n');
}
