import 'reflect-metadata';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  CircuitBreakerService,
  type ResilienceConfig,
  ResilienceModule,
  Resilient,
  type TraceLine,
} from '../../lib/index.js';
import { freePort } from '../support/redis-server.js';

const BIN = fileURLToPath(new URL('../../lib/cli/bin.js', import.meta.url));

let closedPort = 0;

@Injectable()
class Orders {
  @Resilient('orders', {
    rate: { keyFunc: (context: { args: unknown[] }) => String(context.args[0]), rate: 2, per: 60, burst: 0 },
  })
  async place(user: string, works: boolean): Promise<string> {
    if (works) return `placed for ${user}`;
    // A real refused connection: Node's fetch against a port nobody listens on.
    await fetch(`http://127.0.0.1:${closedPort}/`);
    return 'unreachable';
  }

  @Resilient('ledger')
  async post(): Promise<string> {
    return 'posted';
  }

  @Resilient('untraced')
  async other(): Promise<string> {
    return 'other';
  }

  @Resilient('sampled')
  async sampled(): Promise<string> {
    return 'sampled';
  }

  // 200 of the 1000 calls admitted: a 10% sample holds some of them, whatever the draw (with 50,
  // no admitted call was sampled about once in 200 runs, and simulate had nothing to replay).
  @Resilient('burst', { rate: { rate: 200, per: 60, burst: 0 }, retry: { enabled: false } })
  async burst(): Promise<string> {
    return 'served';
  }
}

async function app(config: ResilienceConfig) {
  const moduleRef = await Test.createTestingModule({
    imports: [ResilienceModule.forRoot(config)],
    providers: [Orders],
  }).compile();
  moduleRef.useLogger(false);
  return moduleRef.init();
}

const readLines = (file: string): TraceLine[] =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));

describe('trace: one JSON line per call, for nest-resilience simulate', () => {
  it('records outcome, error family, attempts, rejecting stage and a salted key hash; never arguments or raw keys', async () => {
    closedPort = await freePort();
    const file = join(mkdtempSync(join(tmpdir(), 'trace-')), 'calls.jsonl');
    const moduleRef = await app({
      metrics: { enabled: false },
      trace: { file, salt: 'pepper', services: ['orders', 'ledger'] },
      services: {
        orders: { retry: { maxAttempts: 3, baseDelay: 0.001, jitter: false } },
        ledger: { retry: { enabled: false } },
      },
    });
    const orders = moduleRef.get(Orders);
    const before = Date.now();
    assert.equal(await orders.place('alice-4711', true), 'placed for alice-4711');
    await assert.rejects(orders.place('alice-4711', false));
    await assert.rejects(orders.place('alice-4711', true), /rate limit/i);
    moduleRef.get(CircuitBreakerService).get('ledger').forceOpen();
    await assert.rejects(orders.post());
    await orders.other();
    await moduleRef.close();

    const text = readFileSync(file, 'utf8');
    assert.doesNotMatch(text, /alice/, 'no raw key, no argument');
    const lines = readLines(file);
    const hashOf = (key: string) => createHash('sha256').update('pepper').update(key).digest('hex').slice(0, 16);
    const hash = hashOf('alice-4711');
    const strip = ({ t, latency, ...rest }: TraceLine) => {
      assert.ok(t >= before && t <= Date.now(), `t ${t}`);
      assert.ok(latency >= 0 && latency < 5000, `latency ${latency}`);
      return rest;
    };
    // The file is what `nest-resilience simulate` reads: replay it (the real command).
    const config = join(mkdtempSync(join(tmpdir(), 'trace-config-')), 'c.json');
    writeFileSync(config, JSON.stringify({ services: { orders: { retry: { maxAttempts: 3, baseDelay: 0.001 } } } }));
    const simulated = execFileSync(
      process.execPath,
      [BIN, 'simulate', '--trace', file, '--config', config, '--service', 'orders'],
      {
        encoding: 'utf8',
      },
    );
    assert.match(simulated, /^service orders$/m);
    assert.match(simulated, /^calls\s+3$/m, 'the three recorded calls of orders (one was rate-limited)');
    assert.match(
      simulated,
      /^calls sent to a failing downstream\s+[1-9]/m,
      'the refused connection replays as a failure',
    );
    assert.deepEqual(lines.map(strip), [
      { service: 'orders', arm: 'stable', key: hash, outcome: 'ok', attempts: 1 },
      { service: 'orders', arm: 'stable', key: hash, outcome: 'error', error: 'ConnectionError', attempts: 3 },
      { service: 'orders', arm: 'stable', key: hash, outcome: 'rejected', attempts: 0, rejectedBy: 'rate_limited' },
      {
        service: 'ledger',
        arm: 'stable',
        key: hashOf('global'),
        outcome: 'rejected',
        attempts: 0,
        rejectedBy: 'circuit_open',
      },
    ]);
  });

  it('sampleRate: about that share of calls is recorded', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'trace-')), 'calls.jsonl');
    const moduleRef = await app({
      metrics: { enabled: false },
      trace: { file, sampleRate: 0.25, services: ['sampled'] },
    });
    const orders = moduleRef.get(Orders);
    for (let i = 0; i < 800; i++) await orders.sampled();
    await moduleRef.close();
    const count = readLines(file).length;
    // Binomial(800, 0.25): mean 200, standard deviation 12.2; 140..260 is about 5 deviations.
    assert.ok(count > 140 && count < 260, `${count} of 800 recorded`);
  });

  it('a trace recorded at sampleRate 0.1 replays as the calls it stands for: the simulated limiter refuses what the real one did', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'trace-'));
    const file = join(dir, 'calls.jsonl');
    const moduleRef = await app({ metrics: { enabled: false }, trace: { file, sampleRate: 0.1, services: ['burst'] } });
    const orders = moduleRef.get(Orders);
    let refused = 0;
    for (let i = 0; i < 1000; i++) await orders.burst().catch(() => refused++);
    await moduleRef.close();
    const lines = readLines(file);
    assert.ok(
      lines.every((line) => line.w === 10),
      'each line says it stands for 10 calls',
    );
    const config = join(dir, 'burst.json');
    writeFileSync(
      config,
      JSON.stringify({ services: { burst: { rate: { rate: 200, per: 60, burst: 0 }, retry: { enabled: false } } } }),
    );
    const simulated = execFileSync(process.execPath, [BIN, 'simulate', '--trace', file, '--config', config], {
      encoding: 'utf8',
    });
    const limited = Number(/^429s \(rate limited\)\s+(\d+)$/m.exec(simulated)?.[1]);
    const calls = Number(/^calls\s+(\d+)$/m.exec(simulated)?.[1]);
    t.diagnostic(
      `real: ${refused} of 1000 refused; ${lines.length} lines recorded; simulated: ${limited} of ${calls} refused`,
    );
    assert.match(simulated, /the trace was sampled \(1 call in 10\.0 recorded\)/);
    assert.equal(calls, 10 * lines.length, 'each line replays as the 10 calls it stands for');
    // How many lines a 10% sample holds varies (about 100 +- 9.5), so compare shares: refused of
    // the calls replayed against refused of the calls made (before: 0 of 57 against 95%).
    const share = (n: number, of: number) => (100 * n) / of;
    assert.ok(
      Math.abs(share(limited, calls) - share(refused, 1000)) <= 5,
      `simulated ${limited} of ${calls} refused, the app ${refused} of 1000`,
    );
  });

  it('a bad trace setting is a configuration error with its path', async () => {
    await assert.rejects(
      app({ trace: { file: '/tmp/x.jsonl', sampleRate: 2 } }),
      /trace\.sampleRate: must be <= 1, got 2/,
    );
    await assert.rejects(app({ trace: { sampleRate: 0.5 } as never }), /trace\.file/);
  });
});
