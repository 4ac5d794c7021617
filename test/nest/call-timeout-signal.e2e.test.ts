import 'reflect-metadata';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Injectable } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { CallTimeoutError, CircuitBreaker, currentCallSignal, ResilienceModule, Retry } from '../../lib/index.js';
import { closedConnections, type HangingServer, startHangingServer } from '../support/hanging-server.js';

describe('callTimeout keeps the process alive while a timed call is pending (a real child process)', () => {
  it('times the call out instead of exiting with code 13', () => {
    const worker = fileURLToPath(new URL('../support/call-timeout-exit-worker.js', import.meta.url));
    const run = spawnSync(process.execPath, [worker], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout.trim(), 'CallTimeoutError');
  });
});

describe('a decorated method gets its call signal (currentCallSignal)', () => {
  // A dependency that never answers; it notes when a request's connection goes away.
  let server: HangingServer;
  let url = '';
  let moduleRef: TestingModule;

  @Injectable()
  class Catalog {
    seen: (AbortSignal | undefined)[] = [];

    @CircuitBreaker('catalog', { callTimeout: '150ms' })
    async load(): Promise<number> {
      const signal = currentCallSignal();
      this.seen.push(signal);
      const response = await fetch(url, { signal });
      return response.status;
    }

    @CircuitBreaker('catalog-retried', { callTimeout: '300ms' })
    @Retry({ maxAttempts: 2, baseDelay: 0.01, jitter: false })
    async loadRetried(): Promise<number> {
      const signal = currentCallSignal();
      this.seen.push(signal);
      return (await fetch(url, { signal })).status;
    }

    @CircuitBreaker('untimed')
    async untimed(): Promise<AbortSignal | undefined> {
      return currentCallSignal();
    }
  }

  before(async () => {
    server = await startHangingServer();
    url = server.url;
    moduleRef = await Test.createTestingModule({
      imports: [ResilienceModule.forRoot({ metrics: { enabled: false } })],
      providers: [Catalog],
    }).compile();
    await moduleRef.init();
  });
  after(async () => {
    await moduleRef.close();
    await server.close();
  });

  it('the timeout aborts the real fetch: the server sees its connection close', async () => {
    const catalog = moduleRef.get(Catalog);
    const started = Date.now();
    await assert.rejects(catalog.load(), (e) => e instanceof CallTimeoutError);
    assert.equal(catalog.seen[0]?.aborted, true);
    assert.equal(await closedConnections(server, 1), 1, 'the request was abandoned on the wire');
    const [closedAt] = server.closedAt;
    assert.ok(closedAt - started < 1000, `closed ${closedAt - started} ms after the call began`);
  });

  it('the signal follows the call through retries; a breaker without callTimeout gives none', async () => {
    const catalog = moduleRef.get(Catalog);
    catalog.seen = [];
    await assert.rejects(catalog.loadRetried(), (e) => e instanceof CallTimeoutError);
    assert.ok(catalog.seen.length >= 1);
    assert.ok(catalog.seen.every((s) => s === catalog.seen[0] && s?.aborted));
    assert.equal(await catalog.untimed(), undefined);
  });
});
