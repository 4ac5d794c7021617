import { z } from 'zod';
import { duration, type Named, nonNegativeInt, positiveInt, strict } from '../schema-parts.js';

// The dead-letter queue's settings: its section of the configuration schema (the schema adds
// `preset` and `why`), its presets, and what the base layer fills. One entry of the
// pattern table (./index.ts).

const storageConfigObject = strict({
  filePath: z.string().min(1),
  backupEnabled: z.boolean(),
  backupInterval: duration({ positive: true }),
  redisUrl: z.string().regex(/^rediss?:\/\//, { message: 'must be a redis:// or rediss:// URL' }),
  keyPrefix: z.string().min(1),
  /** Bytes of a stored letter at most. Default: 256 KiB on SQS, 1 MiB elsewhere. */
  maxMessageSize: positiveInt,
  /** Arguments that cannot be kept (over maxMessageSize as stored, unreadable, too deep): true (default) keeps the letter with markers, flagged `truncated`; false refuses it. */
  truncate: z.boolean(),
  /** Redis backend: where letters wait while Redis is down (a local file log). On by default. */
  spool: strict({ enabled: z.boolean(), path: z.string().min(1), maxLetters: positiveInt }).partial(),
  compression: z.union([z.boolean(), z.enum(['gzip', 'brotli'])]),
  encryption: z.union([
    z.boolean(),
    strict({ keys: z.record(z.string(), z.string().min(1)), activeKeyId: z.string().min(1) }),
  ]),
  queueUrl: z.string().min(1),
  region: z.string().min(1),
  endpoint: z.string().min(1),
}).partial();

/** Named, so the declarations of the schemas that hold it refer to it instead of spelling it out. */
export interface StorageConfigSchema extends Named<typeof storageConfigObject> {}
export const storageConfigSchema: StorageConfigSchema = storageConfigObject;

export const DLQ_BACKENDS = ['memory', 'file', 'redis', 'sqs'] as const;

/**
 * Dead-letter queue settings; the guide's names, in camelCase.
 */
const fields = {
  storageBackend: z.enum(DLQ_BACKENDS),
  maxRetryAttempts: nonNegativeInt,
  retentionDays: z.number().gt(0),
  alertThreshold: positiveInt,
  storageConfig: storageConfigSchema,
  /** The queue a service's failed calls go to (default: the service name). */
  queue: z.string().min(1),
  /** false swallows the error after dead-lettering (fire-and-forget work). */
  rethrow: z.boolean(),
  enabled: z.boolean(),
};

/** The section as a user writes it, without `preset`: what every preset must be. */
const section = strict(fields).partial();

const presets = {
  default: { storageBackend: 'redis', maxRetryAttempts: 3, retentionDays: 7, alertThreshold: 100 },
  development: { storageBackend: 'memory', maxRetryAttempts: 2, retentionDays: 1, alertThreshold: 10 },
  production: {
    storageBackend: 'redis',
    maxRetryAttempts: 3,
    retentionDays: 30,
    alertThreshold: 100,
    storageConfig: { keyPrefix: 'prod_dlq' },
  },
  memory: { storageBackend: 'memory', retentionDays: 1 },
  file: { storageBackend: 'file', retentionDays: 7, storageConfig: { backupEnabled: true, backupInterval: 3600 } },
  redis: {
    storageBackend: 'redis',
    retentionDays: 30,
    storageConfig: { keyPrefix: 'dlq', maxMessageSize: 1024 * 1024, compression: true },
  },
  sqs: { storageBackend: 'sqs', retentionDays: 14, storageConfig: { maxMessageSize: 262144 } },
  orders: {
    storageBackend: 'redis',
    maxRetryAttempts: 5,
    retentionDays: 90,
    alertThreshold: 50,
    storageConfig: { keyPrefix: 'order_dlq' },
  },
  email: { storageBackend: 'file', maxRetryAttempts: 3, retentionDays: 7, alertThreshold: 1000 },
  payments: {
    storageBackend: 'redis',
    maxRetryAttempts: 3,
    retentionDays: 365,
    alertThreshold: 10,
    storageConfig: { keyPrefix: 'payment_dlq', encryption: true },
  },
} as const satisfies Record<string, z.input<typeof section>>;

export const dlqPattern = {
  /** The key of the pattern's section in a tier, a service, a call site and the metrics. */
  key: 'dlq' as const,
  fields,
  presets,
  /** The layer under every other (a queue's name and storage come later, from the service). */
  base: {
    storageBackend: 'memory',
    maxRetryAttempts: 3,
    retentionDays: 7,
    alertThreshold: 100,
    rethrow: true,
    enabled: true,
  } satisfies z.input<typeof section>,
};
