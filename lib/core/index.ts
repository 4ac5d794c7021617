export * from './circuit-breaker/index.js';
export * from './clock.js';
export * from './deadline-queue.js';
export * from './duration.js';
export * from './error-matchers.js';
export * from './errors.js';
export * from './rate-limiter/index.js';
export * from './retry/index.js';
