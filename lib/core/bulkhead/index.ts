export * from './bulkhead.js';
export * from './limits.js';
export * from './options.js';
export * from './sample-window.js';
