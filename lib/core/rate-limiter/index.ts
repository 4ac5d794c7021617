export * from './algorithms.js';
export { addressIdentity } from './ip-prefix.js';
export * from './memory-store.js';
export * from './rate-limiter.js';
export * from './types.js';
