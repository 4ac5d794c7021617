export * from './config/index.js';
export * from './core/index.js';
export * from './nest/index.js';
// `Deadline` and `Criticality` are in both: the root's are the decorators (and, as types, the core's).
export { Criticality, Deadline } from './nest/index.js';
export * from './redis/index.js';
export * from './sqs/index.js';
