import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import {
  CircuitBreakerPolicy,
  CONNECTION_CODES,
  ERROR_FAMILIES,
  presets,
  RetryPolicy,
  TIMEOUT_CODES,
} from '../../lib/index.js';
import { type FlakyServers, realErrors, startFlakyServers } from '../support/real-errors.js';

type Row = [connection: boolean, timeout: boolean, http5xx: boolean, breakerCounts: boolean, retried: boolean];

// What each real error is. Columns: ConnectionError, TimeoutError, HTTPError (5xx),
// counted by a breaker with no expectedExceptions, retried by a retry with no
// retryableExceptions. The `network` preset retries exactly the first two families.
const EXPECTED: Record<string, Row> = {
  'fetch: connection refused': [true, false, false, true, true],
  'fetch: connection reset': [true, false, false, true, true],
  'fetch: connection closed with no answer': [true, false, false, true, true],
  'fetch: AbortSignal.timeout()': [false, true, false, true, true],
  'fetch: cancelled by the caller': [false, false, false, false, false],
  'fetch: 503 response thrown': [false, false, true, true, true],
  'axios: connection refused': [true, false, false, true, true],
  'axios: connection reset': [true, false, false, true, true],
  'axios: connection closed with no answer': [true, false, false, true, true],
  'axios: timeout': [true, true, false, true, true],
  'axios: timeout (clarifyTimeoutError)': [false, true, false, true, true],
  '@nestjs/axios HttpService: timeout': [true, true, false, true, true],
  '@nestjs/axios HttpService: 503': [false, false, true, true, true],
  'axios: 500': [false, false, true, true, true],
  'axios: 503': [false, false, true, true, true],
  'axios: 404': [false, false, false, false, false],
  'axios: 400': [false, false, false, false, false],
  'axios: 408': [false, false, false, true, true],
  'axios: 429': [false, false, false, true, true],
  'net: connection refused': [true, false, false, true, true],
};

async function breakerCounts(error: unknown): Promise<boolean> {
  const breaker = new CircuitBreakerPolicy('classify', { failureThreshold: 1 });
  await breaker.execute(() => Promise.reject(error)).catch(() => undefined);
  return breaker.state === 'open';
}

async function attempts(policy: RetryPolicy, error: unknown): Promise<number> {
  let calls = 0;
  await policy
    .execute(() => {
      calls++;
      return Promise.reject(error);
    })
    .catch(() => undefined);
  return calls;
}

describe('error classification, with errors from real clients (fetch, axios, net)', () => {
  let servers: FlakyServers;
  let errors: Record<string, unknown>;
  before(async () => {
    servers = await startFlakyServers();
    errors = await realErrors(servers);
  });
  after(() => servers.close());

  it('every real error lands in the families the table says', async () => {
    const noWait = { sleep: async () => undefined, jitter: false as const, baseDelay: 0 };
    const retry = new RetryPolicy({ maxAttempts: 2, ...noWait });
    const network = new RetryPolicy({ ...presets.retry.network, ...noWait, maxAttempts: 2 });
    const actual: Record<string, Row> = {};
    for (const [label, error] of Object.entries(errors)) {
      actual[label] = [
        ERROR_FAMILIES.ConnectionError(error),
        ERROR_FAMILIES.TimeoutError(error),
        ERROR_FAMILIES.HTTPError(error),
        await breakerCounts(error),
        (await attempts(retry, error)) === 2,
      ];
      const viaNetwork = (await attempts(network, error)) === 2;
      assert.equal(viaNetwork, actual[label][0] || actual[label][1], `${label}: @Retry('network')`);
    }
    assert.deepEqual(actual, EXPECTED);
  });

  it('follows cause chains and AggregateErrors, bounded and safe against cycles', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const nested = new Error('outer', { cause: new Error('middle', { cause: refused }) });
    assert.equal(ERROR_FAMILIES.ConnectionError(nested), true);
    assert.equal(ERROR_FAMILIES.ConnectionError(new AggregateError([new Error('x'), refused])), true);
    const cyclic = new Error('a') as Error & { cause?: unknown };
    cyclic.cause = new Error('b', { cause: cyclic });
    assert.equal(ERROR_FAMILIES.ConnectionError(cyclic), false);
    let deep: Error = refused;
    for (let i = 0; i < 20; i++) deep = new Error(`wrap ${i}`, { cause: deep });
    assert.equal(ERROR_FAMILIES.ConnectionError(deep), false, 'a cause 20 levels down is past the bound');
  });
});

describe('docs/error-classification.md', () => {
  const doc = readFileSync(new URL('../../../docs/error-classification.md', import.meta.url), 'utf8');
  const codesIn = (family: string) => {
    const row = doc.split('\n').find((line) => line.startsWith(`| \`${family}\``)) ?? '';
    return new Set([...(row.split('|')[2] ?? '').matchAll(/`([A-Z0-9_]+)`/g)].map((m) => m[1]));
  };

  it('lists exactly the codes the matchers use', () => {
    assert.deepEqual(codesIn('ConnectionError'), new Set(CONNECTION_CODES));
    assert.deepEqual(codesIn('TimeoutError'), new Set(TIMEOUT_CODES));
  });

  it('has a row for every real error above, with the same verdicts', () => {
    for (const [label, row] of Object.entries(EXPECTED)) {
      const line = doc.split('\n').find((l) => l.startsWith(`| ${label} |`));
      assert.ok(line, `no row for "${label}"`);
      const cells = line
        .split('|')
        .slice(2, 7)
        .map((c) => c.trim() === 'yes');
      assert.deepEqual(cells, row, label);
    }
  });
});
