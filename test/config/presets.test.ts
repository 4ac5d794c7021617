import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  bulkheadSchema,
  circuitSchema,
  dlqSchema,
  patternSchema,
  rateSchema,
  retrySchema,
} from '../../lib/config/schema.js';
import { presets } from '../../lib/index.js';
import { camel, constructions, dictLiteral, type PyValue } from '../support/guide-parser.js';

const guide = readFileSync(new URL('../../../docs/resilience-configuration-guide.md', import.meta.url), 'utf8');

/** Guide variable -> preset. Every construction in the guide must be here or in NOT_PRESETS. */
const PRESET_OF: Record<string, [keyof typeof presets, string]> = {
  circuit_breaker: ['circuit', 'default'],
  dev_circuit: ['circuit', 'development'],
  staging_circuit: ['circuit', 'staging'],
  prod_circuit: ['circuit', 'production'],
  critical_circuit: ['circuit', 'critical'],
  non_critical_circuit: ['circuit', 'nonCritical'],
  external_circuit: ['circuit', 'external'],
  retry_policy: ['retry', 'default'],
  dev_retry: ['retry', 'development'],
  prod_retry: ['retry', 'production'],
  fast_retry: ['retry', 'fast'],
  network_retry: ['retry', 'network'],
  db_retry: ['retry', 'database'],
  api_retry: ['retry', 'api'],
  linear_retry: ['retry', 'linear'],
  aggressive_retry: ['retry', 'aggressive'],
  rate_limiter: ['rate', 'default'],
  dev_limiter: ['rate', 'development'],
  prod_limiter: ['rate', 'production'],
  public_api_limiter: ['rate', 'publicApi'],
  internal_api_limiter: ['rate', 'internalApi'],
  user_limiter: ['rate', 'perUser'],
  ip_limiter: ['rate', 'perIp'],
  stripe_limiter: ['rate', 'stripe'],
  twitter_limiter: ['rate', 'twitter'],
  github_limiter: ['rate', 'github'],
  free: ['rate', 'free'],
  basic: ['rate', 'basic'],
  premium: ['rate', 'premium'],
  enterprise: ['rate', 'enterprise'],
  dlq: ['dlq', 'default'],
  dev_dlq: ['dlq', 'development'],
  prod_dlq: ['dlq', 'production'],
  memory_dlq: ['dlq', 'memory'],
  file_dlq: ['dlq', 'file'],
  redis_dlq: ['dlq', 'redis'],
  sqs_dlq: ['dlq', 'sqs'],
  order_dlq: ['dlq', 'orders'],
  email_dlq: ['dlq', 'email'],
  payment_dlq: ['dlq', 'payments'],
};
/** The rollout example's two breakers: configurations of a migration, not named presets. */
const NOT_PRESETS = new Set(['old_circuit', 'new_circuit']);
/** Deployment facts in the guide's examples (hosts, paths, regions), deliberately not preset values. */
const DEPLOYMENT_KEYS = new Set(['redisUrl', 'queueUrl', 'region', 'filePath']);

/** The guide's kwargs in our option shape. */
function expected(kwargs: Record<string, PyValue>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(kwargs)) {
    if (key === 'onStateChange') continue; // a callback (alert_ops_team), not a value
    if (key === 'keyFunc') {
      const body = (value as { lambda: string }).lambda;
      out.key = body.includes('api_key') ? 'apiKey' : body.includes('user_id') ? 'user' : 'ip';
    } else if (key === 'storageConfig') {
      const config = Object.entries(value as Record<string, PyValue>).filter(([k]) => !DEPLOYMENT_KEYS.has(k));
      if (config.length) out.storageConfig = Object.fromEntries(config);
    } else {
      out[key] = value;
    }
  }
  return out;
}

describe('presets match the configuration guide', () => {
  const found = constructions(guide, ['CircuitBreaker', 'RetryPolicy', 'RateLimiter', 'DeadLetterQueue']).filter(
    (c) => Object.keys(c.kwargs).length > 0, // `Class(**config[...])` in the tier example
  );

  it('reads every configuration of the guide', () => {
    assert.ok(found.length >= 40, `read only ${found.length} configurations`);
    const unmapped = found.filter((c) => !PRESET_OF[c.name] && !NOT_PRESETS.has(c.name)).map((c) => c.name);
    assert.deepEqual(unmapped, [], 'a guide configuration without a preset');
  });

  for (const [variable, [pattern, name]] of Object.entries(PRESET_OF)) {
    it(`presets.${pattern}.${name} is the guide's ${variable}`, () => {
      const construction = found.find((c) => c.name === variable);
      assert.ok(construction, `${variable} not found in the guide`);
      const preset = (presets[pattern] as Record<string, unknown>)[name];
      assert.deepEqual(preset, expected(construction.kwargs));
    });
  }

  it("presets.tiers is the guide's tier table", () => {
    const table = dictLiteral(guide, 'configs');
    const ours = Object.fromEntries(Object.entries(presets.tiers).map(([tier, value]) => [camel(tier), value]));
    assert.deepEqual(ours, table);
  });

  it('names every preset the issue lists', () => {
    assert.deepEqual(Object.keys(presets.circuit).sort(), [
      'critical',
      'default',
      'development',
      'external',
      'nonCritical',
      'production',
      'staging',
    ]);
    assert.deepEqual(Object.keys(presets.retry).sort(), [
      'aggressive',
      'api',
      'database',
      'default',
      'development',
      'fast',
      'linear',
      'network',
      'production',
    ]);
    for (const name of [
      'development',
      'production',
      'publicApi',
      'internalApi',
      'perUser',
      'perIp',
      'stripe',
      'twitter',
      'github',
      'free',
      'basic',
      'premium',
      'enterprise',
    ]) {
      assert.ok(name in presets.rate, `presets.rate.${name}`);
    }
    for (const name of ['development', 'production', 'memory', 'file', 'redis', 'sqs', 'orders', 'email', 'payments']) {
      assert.ok(name in presets.dlq, `presets.dlq.${name}`);
    }
  });

  it('is frozen', () => {
    assert.throws(() => {
      (presets.circuit.critical as { failureThreshold: number }).failureThreshold = 1;
    }, TypeError);
  });

  it('every preset is valid settings of its pattern (a misspelt key in one fails here)', () => {
    const schemas = {
      circuit: circuitSchema,
      retry: retrySchema,
      rate: rateSchema,
      dlq: dlqSchema,
      bulkhead: bulkheadSchema,
      tiers: patternSchema,
    };
    let checked = 0;
    for (const [group, schema] of Object.entries(schemas)) {
      for (const [name, value] of Object.entries(presets[group as keyof typeof presets])) {
        const result = schema.safeParse(value);
        assert.ok(result.success, `presets.${group}.${name}: ${result.error?.message}`);
        checked++;
      }
    }
    assert.ok(checked >= 30, `${checked} presets checked`);
    assert.equal(circuitSchema.safeParse({ failureThreshhold: 3 }).success, false, 'the schemas refuse unknown keys');
  });
});
