// Bad configurations and the "path: message" each must report: the config tests and the CLI's.
/** [what, config, expected "path: message" fragments] */
export const BAD: [string, unknown, string[]][] = [
  [
    'zero failureThreshold',
    { defaults: { circuit: { failureThreshold: 0 } } },
    ['defaults.circuit.failureThreshold: must be >= 1, got 0'],
  ],
  [
    'the issue example',
    { tiers: { critical: { circuit: { failureThreshold: 0 } } } },
    ['tiers.critical.circuit.failureThreshold: must be >= 1, got 0'],
  ],
  [
    'fractional threshold',
    { defaults: { circuit: { successThreshold: 2.5 } } },
    ['defaults.circuit.successThreshold: expected an integer, got 2.5'],
  ],
  [
    'string threshold',
    { defaults: { circuit: { failureThreshold: 'five' } } },
    ['defaults.circuit.failureThreshold: expected number, got "five"'],
  ],
  [
    'misspelt key',
    { defaults: { circuit: { failureTreshold: 3 } } },
    ['defaults.circuit.failureTreshold: unknown key (did you mean "failureThreshold"?)'],
  ],
  ['snake_case key', { defaults: { retry: { max_attempts: 3 } } }, ['defaults.retry.max_attempts: unknown key']],
  ['unknown top-level key', { enviroment: 'production' }, ['enviroment: unknown key (did you mean "environment"?)']],
  [
    'bad duration unit',
    { defaults: { circuit: { timeout: '5 minutes' } } },
    ['defaults.circuit.timeout: invalid duration "5 minutes"'],
  ],
  [
    'a minimumCalls the count window can never hold (refused at boot, passed by check before)',
    { services: { api: { circuit: { failureRateThreshold: 50, slidingWindowSize: 20, minimumCalls: 50 } } } },
    ['services.api.circuit: minimumCalls (50) is greater than slidingWindowSize (20)'],
  ],
  [
    'a shared breaker without Redis (refused at boot, passed by check before)',
    { services: { ledger: { circuit: { scope: 'shared' } } } },
    ['services.ledger.circuit.scope: "shared" keeps the state in Redis, and no redis is configured'],
  ],
  [
    'a maxTimeout under the timeout (the timeout would never be used)',
    { services: { api: { circuit: { timeout: 600, maxTimeout: 60 } } } },
    ['services.api.circuit: maxTimeout (60s) must be >= timeout (600s)'],
  ],
  [
    'a failure-rate threshold of 100 (the breaker opens above it: never)',
    { services: { api: { circuit: { failureRateThreshold: 100 } } } },
    ['services.api.circuit.failureRateThreshold: must be < 100'],
  ],
  [
    'a slow-call-rate threshold of 100',
    { defaults: { circuit: { slowCallRateThreshold: 100, slowCallDuration: 2 } } },
    ['defaults.circuit.slowCallRateThreshold: must be < 100'],
  ],
  [
    'a removed adaptive setting',
    { services: { search: { bulkhead: { adaptive: { algorithm: 'gradient2', longWindow: 600 } } } } },
    ['services.search.bulkhead.adaptive.longWindow: was removed: gradient2 now measures against the no-load latency'],
  ],
  [
    'an adaptive tolerance under 1',
    { defaults: { bulkhead: { adaptive: { algorithm: 'aimd', rttTolerance: 0.8 } } } },
    ['defaults.bulkhead.adaptive.rttTolerance: must be >= 1, got 0.8'],
  ],
  [
    'unknown circuit scope',
    { services: { ledger: { circuit: { scope: 'fleet' } } } },
    ['services.ledger.circuit.scope: must be one of "local", "shared", "quorum", got "fleet"'],
  ],
  [
    'quorum percent out of range',
    { tiers: { critical: { circuit: { scope: 'quorum', quorum: { percent: 150 } } } } },
    ['tiers.critical.circuit.quorum.percent: must be <= 100, got 150'],
  ],
  ['negative duration', { defaults: { circuit: { timeout: -5 } } }, ['defaults.circuit.timeout: invalid duration']],
  ['zero open timeout', { defaults: { circuit: { timeout: 0 } } }, ['defaults.circuit.timeout: must be > 0']],
  [
    'percent above 100',
    { defaults: { circuit: { failureRateThreshold: 150 } } },
    ['defaults.circuit.failureRateThreshold: must be < 100'],
  ],
  [
    'bad window type',
    { defaults: { circuit: { slidingWindowType: 'sliding' } } },
    ['defaults.circuit.slidingWindowType: must be one of "count", "time", got "sliding"'],
  ],
  [
    'expectedExceptions not a list',
    { defaults: { circuit: { expectedExceptions: 'Exception' } } },
    ['defaults.circuit.expectedExceptions: expected array'],
  ],
  [
    'expectedExceptions with a number',
    { defaults: { circuit: { expectedExceptions: [42] } } },
    ['defaults.circuit.expectedExceptions[0]: expected an error class, an error name or a predicate, got 42'],
  ],
  [
    'unknown circuit preset',
    { defaults: { circuit: { preset: 'paranoid' } } },
    ['defaults.circuit.preset: must be one of'],
  ],
  [
    'zero maxAttempts',
    { defaults: { retry: { maxAttempts: 0 } } },
    ['defaults.retry.maxAttempts: must be >= 1, got 0'],
  ],
  [
    'exponentialBase below 1',
    { defaults: { retry: { exponentialBase: 0.5 } } },
    ['defaults.retry.exponentialBase: must be >= 1, got 0.5'],
  ],
  ['bad jitter', { defaults: { retry: { jitter: 'lots' } } }, ['defaults.retry.jitter: expected true, false']],
  ['jitter ratio above 1', { defaults: { retry: { jitter: 2 } } }, ['defaults.retry.jitter: must be <= 1, got 2']],
  [
    'maxDelay below baseDelay',
    { defaults: { retry: { baseDelay: 10, maxDelay: '2s' } } },
    ['defaults.retry.maxDelay: must be >= baseDelay (10s), got 2s'],
  ],
  [
    'budget without tokenRatio',
    { defaults: { retry: { budget: { maxTokens: 10 } } } },
    ['defaults.retry.budget.tokenRatio: is required'],
  ],
  ['zero rate', { defaults: { rate: { rate: 0 } } }, ['defaults.rate.rate: must be > 0, got 0']],
  ['negative burst', { defaults: { rate: { burst: -1 } } }, ['defaults.rate.burst: must be >= 0, got -1']],
  [
    'bad strategy',
    { defaults: { rate: { strategy: 'leaky' } } },
    ['defaults.rate.strategy: must be one of "token_bucket", "fixed_window", "sliding_window", got "leaky"'],
  ],
  [
    'keyFunc not a function',
    { defaults: { rate: { keyFunc: 'req.ip' } } },
    ['defaults.rate.keyFunc: keyFunc must be a function'],
  ],
  ['bad rate key kind', { defaults: { rate: { key: 'email' } } }, ['defaults.rate.key: must be one of']],
  [
    'bad DLQ backend',
    { deadLetter: { storageBackend: 'kafka' } },
    ['deadLetter.storageBackend: must be one of "memory", "file", "redis", "sqs", got "kafka"'],
  ],
  ['zero retention', { deadLetter: { retentionDays: 0 } }, ['deadLetter.retentionDays: must be > 0, got 0']],
  [
    'unknown storageConfig key',
    { deadLetter: { storageConfig: { file_path: '/tmp/x' } } },
    ['deadLetter.storageConfig.file_path: unknown key'],
  ],
  [
    'bad redis URL in storageConfig',
    { deadLetter: { storageConfig: { redisUrl: 'localhost:6379' } } },
    ['deadLetter.storageConfig.redisUrl: must be a redis:// or rediss:// URL'],
  ],
  [
    'service with unknown tier',
    { services: { payments: { tier: 'platinum' } } },
    ['services.payments.tier: unknown tier "platinum"'],
  ],
  ['unknown default tier', { defaultTier: 'gold' }, ['defaultTier: unknown tier "gold"']],
  [
    'bad environment',
    { environment: 'prod' },
    ['environment: must be one of "development", "staging", "production", got "prod"'],
  ],
  [
    'rollout percent above 100',
    { services: { a: { rollout: { percent: 120 } } } },
    ['services.a.rollout.percent: must be <= 100, got 120'],
  ],
  [
    'rollout without percent',
    { services: { a: { rollout: { circuit: { failureThreshold: 3 } } } } },
    ['services.a.rollout.percent: is required'],
  ],
  ['redis port out of range', { redis: { port: 70000 } }, ['redis.port: must be <= 65535, got 70000']],
  [
    'redis failure mode',
    { redis: { failureMode: 'retry' } },
    ['redis.failureMode: must be one of "open", "closed", "local", got "retry"'],
  ],
  [
    'metrics prefix',
    { metrics: { prefix: 'my-app' } },
    ['metrics.prefix: must be a valid Prometheus metric name prefix'],
  ],
  ['strict not boolean', { strict: 'yes' }, ['strict: expected boolean, got "yes"']],
  ['tiers not an object', { tiers: ['critical'] }, ['tiers: expected record, got an array']],
];
