export * from './clock.js';
export * from './duration.js';
export * from './error-matchers.js';
export * from './errors.js';
