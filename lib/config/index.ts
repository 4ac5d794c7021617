export * from './explain.js';
export { formatZodIssues } from './format-issues.js';
export { mergeLayers } from './merge.js';
export * from './pre-deployment-checks.js';
export * from './presets.js';
export * from './resolve.js';
export type * from './resolved-types.js';
export { circuitSchema, configSchema, dlqSchema, patternSchema, rateSchema, retrySchema } from './schema.js';
export type * from './types.js';
