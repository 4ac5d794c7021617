import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const SECONDS = Number(process.env.HTTP_BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.HTTP_BENCH_ROUNDS ?? 9);

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Pins a process to one CPU when the machine has two or more and `taskset` exists. */
function pin(pid: number, cpu: number): boolean {
  try {
    execFileSync('taskset', ['-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

interface Server {
  url: string;
  pid: number;
  stop: () => void;
}

/** CPU time (user + system) a process has used, in clock ticks of /proc/<pid>/stat (Linux). */
function cpuTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
  } catch {
    return undefined;
  }
}

/** One server variant in its own process, pinned to CPU 0 (the load generator gets CPU 1). */
async function startServer(variant: string): Promise<Server> {
  const port = await freePort();
  const script = fileURLToPath(new URL('./http-server.js', import.meta.url));
  const child = spawn(process.execPath, [script, variant, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
    child.once('exit', (code) => reject(new Error(`server ${variant} exited with ${code}`)));
  });
  if (child.pid) pin(child.pid, 0);
  return { url: `http://127.0.0.1:${port}/hello`, pid: child.pid ?? 0, stop: () => child.kill() };
}

interface Sample {
  perSecond: number;
  /** Server CPU (clock ticks) per 1,000 requests: less sensitive to a noisy neighbour than throughput. */
  cpuPerThousand: number;
}

async function measureServer(server: Server, seconds: number): Promise<Sample> {
  const before = cpuTicks(server.pid);
  const result = await autocannon({ url: server.url, connections: 50, duration: seconds });
  const after = cpuTicks(server.pid);
  if (result.non2xx || result.errors)
    throw new Error(`${server.url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  const cpu = before === undefined || after === undefined ? Number.NaN : after - before;
  return { perSecond: result.requests.average, cpuPerThousand: (cpu * 1000) / result.requests.total };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const LABEL: Record<string, string> = {
  bare: 'app without nest-resilience (reference)',
  'noop-interceptor': 'app without it, one global no-op interceptor (reference)',
  plain: 'plain route, our module loaded',
  mixed: 'plain route, our module loaded, a @RateLimit route beside it has served traffic',
  global: 'plain route, module loaded with `interceptor: "global"`',
  'rate-limit': '@RateLimit route (60 s window, one key)',
  resilient: '@Resilient route (limiter, breaker, retry, dead letter)',
  throttler: '@nestjs/throttler ThrottlerGuard (60 s ttl, one key)',
};

/** [case, baseline, at least] */
const PAIRS: [string, string, number][] = [
  ['plain', 'bare', 0.97],
  ['mixed', 'bare', 0],
  ['global', 'bare', 0],
  ['noop-interceptor', 'bare', 0],
  ['rate-limit', 'plain', 0.95],
  ['resilient', 'plain', 0.93],
  ['throttler', 'plain', 0],
  ['resilient', 'throttler', 1],
];

/**
 * Every variant runs in its own server process, all started up front. Rounds interleave
 * the variants (the order rotates each round so none always runs first or last), each
 * measured for SECONDS under autocannon; a pair's ratio is taken within each round, and
 * the table reports the median ratio with its min-max spread over the rounds.
 */
export async function benchHttp(
  variants = ['bare', 'noop-interceptor', 'plain', 'mixed', 'global', 'rate-limit', 'resilient', 'throttler'],
): Promise<string> {
  const pinned = pin(process.pid, 1);
  const servers: Record<string, Server> = {};
  try {
    for (const v of variants) servers[v] = await startServer(v);
    for (const v of variants) await measureServer(servers[v], 2); // warm-up (JIT)
    const rps: Record<string, number[]> = Object.fromEntries(variants.map((v) => [v, []]));
    const cpu: Record<string, number[]> = Object.fromEntries(variants.map((v) => [v, []]));
    for (let round = 0; round < ROUNDS; round++) {
      const order = variants.map((_, i) => variants[(i + round) % variants.length]);
      for (const v of order) {
        const sample = await measureServer(servers[v], SECONDS);
        rps[v].push(sample.perSecond);
        cpu[v].push(sample.cpuPerThousand);
      }
    }
    const lines = [
      `### HTTP, Express, autocannon 50 connections, ${ROUNDS} interleaved rounds of ${SECONDS} s per case (issue 13)`,
      '',
      pinned ? 'Server processes pinned to CPU 0, the load generator to CPU 1.' : 'Not pinned (no taskset).',
      '',
      '| case | req/s (median) | min | max | server CPU ms per 1,000 requests (median) |',
      '|---|---:|---:|---:|---:|',
      ...variants.map(
        (v) =>
          `| ${LABEL[v]} | ${Math.round(median(rps[v]))} | ${Math.round(Math.min(...rps[v]))} | ${Math.round(Math.max(...rps[v]))} | ${(median(cpu[v]) * 10).toFixed(1)} |`,
      ),
      '',
      'Ratios per round, then median and min-max over the rounds: throughput (case / baseline) and',
      'CPU efficiency (baseline CPU per request / case CPU per request; 1 = the same cost).',
      '',
      '| pair | throughput median | min | max | CPU efficiency median | min | max | target (at least) | met (by CPU efficiency) |',
      '|---|---:|---:|---:|---:|---:|---:|---:|:---:|',
    ];
    const span = (xs: number[]) =>
      `${median(xs).toFixed(3)} | ${Math.min(...xs).toFixed(3)} | ${Math.max(...xs).toFixed(3)}`;
    for (const [a, b, limit] of PAIRS) {
      if (!rps[a] || !rps[b]) continue;
      const throughput = rps[a].map((x, i) => x / rps[b][i]);
      const efficiency = cpu[a].map((x, i) => cpu[b][i] / x);
      const m = median(efficiency);
      const verdict = limit === 0 ? 'reference' : m >= limit ? 'yes' : 'NO';
      lines.push(`| ${a} / ${b} | ${span(throughput)} | ${span(efficiency)} | ${limit || '-'} | ${verdict} |`);
    }
    return lines.join('\n');
  } finally {
    for (const s of Object.values(servers)) s.stop();
  }
}
