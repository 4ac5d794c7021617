import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as core from '../../lib/core/index.js';
import {
  ApplicationShutdownError,
  BulkheadRejectedError,
  CircuitOpenError,
  RateLimitExceededError,
  RateLimiterShutdownError,
  REJECTIONS,
  ResilienceError,
  rejectionOf,
} from '../../lib/core/index.js';

describe('what a client is told for a call turned away (one table for every transport)', () => {
  it('each rejection has its status, GraphQL code and retry-after', () => {
    const limited = new RateLimitExceededError({ retryAfter: 7, limiter: 'api', remaining: 0 });
    assert.deepEqual(rejectionOf(limited), {
      status: 429,
      graphql: 'TOO_MANY_REQUESTS',
      shutdown: false,
      retryAfter: 7,
    });
    assert.deepEqual(rejectionOf(CircuitOpenError.stackless('payments', 30)), {
      status: 503,
      graphql: 'SERVICE_UNAVAILABLE',
      shutdown: false,
      retryAfter: 30,
    });
    assert.equal(rejectionOf(new ApplicationShutdownError())?.shutdown, true);
    assert.equal(rejectionOf(new RateLimiterShutdownError())?.status, 503);
    assert.equal(rejectionOf(new Error('a dependency failed')), undefined);
    assert.equal(rejectionOf('not an error'), undefined);
  });

  it('every error of ours that turns a call away is in the table (a new pattern adds its own)', () => {
    const turnsAway = /Rejected|Open|Exceeded|Shutdown/;
    const exported: unknown[] = Object.values(core);
    const ours = exported.filter(
      (value): value is { name: string; prototype: Error } =>
        typeof value === 'function' && value.prototype instanceof ResilienceError && turnsAway.test(value.name),
    );
    assert.ok((ours as unknown[]).includes(BulkheadRejectedError), 'the scan finds the exported errors');
    const listed: unknown[] = REJECTIONS.map((entry) => entry.error);
    for (const error of ours) assert.ok(listed.includes(error), `${error.name} is in REJECTIONS`);
  });
});
