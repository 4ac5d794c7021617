export * from './config/index.js';
export * from './core/index.js';
export * from './nest/index.js';
export * from './redis/index.js';
export * from './sqs/index.js';
