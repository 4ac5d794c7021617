export * from './adaptive-limit.js';
export * from './bulkhead.js';
export * from './laws.js';
export * from './options.js';
export * from './overload.js';
export * from './sample-window.js';
