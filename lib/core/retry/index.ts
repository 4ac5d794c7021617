export * from './backoff.js';
export * from './budget.js';
export * from './classify.js';
export * from './failed-attempt.js';
export * from './retry-after.js';
export type { RetryOutcome } from './retry-options.js';
export * from './retry-policy.js';
export * from './sleep.js';
