import { z } from 'zod';
import { duration, fn, type Named, nonNegativeInt, strict } from './schema-parts.js';

// The sections of the configuration that are not a pattern's: Redis, HTTP, metrics, tracing, trace recording.

/** What the module needs of an ioredis client (a `Redis` or a `Cluster`) the application already has. */
export interface RedisClientLike {
  readonly status: string;
  disconnect(): void;
}

const isRedisClient = (v: unknown): v is RedisClientLike =>
  !!v &&
  typeof v === 'object' &&
  typeof (v as RedisClientLike).status === 'string' &&
  typeof (v as RedisClientLike).disconnect === 'function' &&
  typeof (v as { evalsha?: unknown }).evalsha === 'function';

const hostPort = strict({ host: z.string().min(1), port: z.number().int().min(1).max(65535) });

const redisObject = strict({
  url: z.string().regex(/^rediss?:\/\//, { message: 'must be a redis:// or rediss:// URL' }),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  password: z.string(),
  username: z.string(),
  db: nonNegativeInt,
  tls: z.boolean(),
  keyPrefix: z.string().min(1),
  /** Per-command timeout so an outage never hangs a request. */
  commandTimeout: duration({ positive: true }),
  connectTimeout: duration({ positive: true }),
  /** What a limiter does while Redis is unreachable. */
  failureMode: z.enum(['open', 'closed', 'local']),
  /** A Redis Cluster: its startup nodes (`'host:port'` or `{ host, port }`), and ioredis ClusterOptions. */
  cluster: strict({
    nodes: z.array(z.union([z.string().regex(/^[^:\s]+:\d+$/, { message: "must be 'host:port'" }), hostPort])).min(1),
    options: z.record(z.string(), z.unknown()),
  })
    .partial()
    .required({ nodes: true }),
  /** Redis Sentinel: the sentinels, with `name` the master they watch. */
  sentinels: z.array(hostPort).min(1),
  /** The master's name, with `sentinels`. */
  name: z.string().min(1),
  /** An ioredis `Redis` or `Cluster` the application already has (not closed by the module). */
  client: z.custom<RedisClientLike>(isRedisClient, { message: 'must be an ioredis Redis or Cluster instance' }),
}).partial();
/** Named, so the declarations of the schemas that hold it refer to it instead of spelling it out. */
export interface RedisSchema extends Named<typeof redisObject> {}
export const redisSchema: RedisSchema = redisObject;

const routePattern = z.string().regex(/^((GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|ALL) )?\/\S*$/, {
  message: "must be a route such as 'GET /orders/:id', '/users/*'",
});
const httpObject = strict({
  /** Rate-limit headers on HTTP responses: the IETF RateLimit-Policy / RateLimit (default), legacy X-RateLimit-*, both, or none. */
  rateLimitHeaders: z.enum(['ietf', 'legacy', 'both', 'none']),
  /**
   * Routes that run through a service's full stack without a decorator:
   * `'GET /orders/:id': orders`, `'/users/*': user_api` (any method; `*` matches the rest).
   */
  routes: z.record(routePattern, z.string().min(1)),
}).partial();
/** Named, so the declarations of the schemas that hold it refer to it instead of spelling it out. */
export interface HttpSchema extends Named<typeof httpObject> {}
export const httpSchema: HttpSchema = httpObject;

export const METRICS_PROVIDERS = ['prom-client', 'opentelemetry', 'none'] as const;

const metricsObject = strict({
  enabled: z.boolean(),
  /**
   * Where the instruments go: prom-client's default registry, the global MeterProvider of
   * @opentelemetry/api, or nowhere. Default: prom-client when installed, else none.
   */
  provider: z.enum(METRICS_PROVIDERS),
  /** Prepended to every metric name. */
  prefix: z.string().regex(/^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/, {
    message: 'must be a valid Prometheus metric name prefix ([a-zA-Z_:][a-zA-Z0-9_:]*)',
  }),
}).partial();
/** Named, so the declarations of the schemas that hold it refer to it instead of spelling it out. */
export interface MetricsSchema extends Named<typeof metricsObject> {}
export const metricsSchema: MetricsSchema = metricsObject;

/** OpenTelemetry traces (needs @opentelemetry/api): span events of each call's resilience story. */
const tracingObject = strict({
  /** Default: on when @opentelemetry/api is installed (it costs nothing without a tracer provider). */
  enabled: z.boolean(),
  /** Each attempt of a retried operation as a child span of the call's span. Default false. */
  attemptSpans: z.boolean(),
}).partial();
/** Named, so the declarations of the schemas that hold it refer to it instead of spelling it out. */
export interface TracingSchema extends Named<typeof tracingObject> {}
export const tracingSchema: TracingSchema = tracingObject;

/** Recording calls for `nest-resilience simulate`: one JSON line per sampled call (never arguments or raw keys). */
const traceObject = strict({
  /** The file lines are appended to. */
  file: z.string().min(1),
  /** Share of calls recorded, 0 to 1. Default 1. */
  sampleRate: z.number().min(0).max(1),
  /** Only these services (default: every service). */
  services: z.array(z.string().min(1)).min(1),
  /** Salt of the key hashes (default: random per process, so hashes match only within one run). */
  salt: z.string().min(1),
})
  .partial()
  .required({ file: true });
/** Named, so the declarations of the schemas that hold it refer to it instead of spelling it out. */
export interface TraceSchema extends Named<typeof traceObject> {}
export const traceSchema: TraceSchema = traceObject;

const deadlineObject = strict({
  /** Read the caller's deadline from request headers (default true); `@Deadline` works either way. */
  enabled: z.boolean(),
  /** The latest deadline accepted, from now: a later one (or a hostile value) is clamped to it. Default 60 s. */
  max: duration({ positive: true }),
  /** The header of an absolute deadline, epoch milliseconds. Default `x-request-deadline`. */
  header: z.string().min(1),
  /** The header of a relative one, milliseconds from now. Default `x-request-timeout-ms`. */
  timeoutHeader: z.string().min(1),
}).partial();
/** Named, so the declarations of the schemas that hold it refer to it instead of spelling it out. */
export interface DeadlineSchema extends Named<typeof deadlineObject> {}
export const deadlineSchema: DeadlineSchema = deadlineObject;

const criticalityObject = strict({
  /** Read the caller's criticality from a request header (default true); `@Criticality` works either way. */
  enabled: z.boolean(),
  /** The header. Default `x-request-criticality`. */
  header: z.string().min(1),
}).partial();
/** Named, so the declarations of the schemas that hold it refer to it instead of spelling it out. */
export interface CriticalitySchema extends Named<typeof criticalityObject> {}
export const criticalitySchema: CriticalitySchema = criticalityObject;

/** A chaos latency in seconds: fixed, uniform `{ min, max }` or exponential `{ mean, max? }`. */
export type ChaosLatency = number | { min: number; max: number } | { mean: number; max?: number };

/** A fixed duration or a distribution, each checked by its own shape (so a problem names its field). */
function latencySchema() {
  const fixed = duration({ positive: true });
  const uniform = strict({ min: duration(), max: duration({ positive: true }) });
  const exponential = strict({ mean: duration({ positive: true }), max: duration({ positive: true }).optional() });
  return z.unknown().transform((value, ctx): ChaosLatency => {
    const shape = typeof value === 'object' && value !== null ? ('mean' in value ? exponential : uniform) : fixed;
    const parsed = shape.safeParse(value);
    if (parsed.success) {
      const latency = parsed.data as ChaosLatency;
      if (typeof latency === 'object' && 'min' in latency && latency.min > latency.max)
        ctx.addIssue({ code: 'custom', message: 'min must not be over max', path: ['min'], input: value });
      return latency;
    }
    for (const issue of parsed.error.issues)
      ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path as PropertyKey[], input: value });
    return z.NEVER;
  });
}

/** One chaos experiment: a fault injected into a service's calls, for a while. */
const chaosExperimentObject = strict({
  /** The service whose calls it hits (@Resilient's name, else the class name). */
  service: z.string().min(1),
  fault: z.enum(['latency', 'error', 'outcome']),
  /** For `error`: an error family ('ConnectionError', 'TimeoutError', ...) or an HTTP status ('503'). */
  error: z.string().min(1),
  /**
   * For `latency`: the delay added before the call: a duration, or a distribution: uniform
   * `{ min, max }`, exponential `{ mean, max? }` (capped at `max`, default 10 x the mean).
   */
  latency: latencySchema(),
  /** For `outcome`: the value the call returns instead of running. */
  value: z.unknown(),
  /** Share of calls (attempts) hit, 0 to 1. */
  rate: z.number().min(0).max(1),
  /** How long it runs; it ends by itself. Or give `expiresAt`. */
  duration: duration({ positive: true }),
  /** When it ends (ISO 8601 with an offset, or epoch ms), instead of `duration`. */
  expiresAt: z.union([z.iso.datetime({ offset: true }), z.number().int().positive()]),
  /** Only the stable or only the rollout arm of a service with a rollout. */
  arm: z.enum(['stable', 'rollout']),
  /** 'attempt' (default): each attempt drawn on its own; 'call': one draw for every attempt of a call. */
  per: z.enum(['attempt', 'call']),
  /** Only calls serving this route: 'VERB /path', '/path' or '/prefix/*' (as in `http.routes`). */
  route: z.string().min(1),
  /** Only calls with this key (the rate limiter's: an IP, a user id; or ResilienceService.call's). */
  key: z.string().min(1),
  /** Only calls this predicate accepts (given what a rate-limit key function gets). Code only, this replica only. */
  when: fn<(call: { args: unknown[]; request?: unknown; type: string }) => boolean>('when'),
  why: z.string().min(1),
})
  .partial()
  .required({ service: true, fault: true, rate: true });
/** Named, so the declarations of the schemas that hold it refer to it instead of spelling it out. */
export interface ChaosExperimentSchema extends Named<typeof chaosExperimentObject> {}
export const chaosExperimentSchema: ChaosExperimentSchema = chaosExperimentObject;

const chaosObject = strict({
  /** Installs the chaos stage (innermost, every decorated method) and lets experiments run. Default false. */
  enabled: z.boolean(),
  /** Lets chaos run when `environment` is production. Default false: refused at bootstrap. */
  allowInProduction: z.boolean(),
  /** Experiments started at bootstrap (each ends after its duration; on this replica). */
  experiments: z.array(chaosExperimentSchema),
  /**
   * 'fleet' (the default when `redis` is configured): experiments started through the admin API
   * or `ChaosExperiments.begin` run on every replica, through Redis; 'local': on this one only.
   */
  scope: z.enum(['local', 'fleet']),
  /** How often a replica reads the fleet's experiments (a start or a stop elsewhere reaches it within this). Default 1s. */
  syncInterval: duration({ positive: true }),
}).partial();
/** Named, so the declarations of the schemas that hold it refer to it instead of spelling it out. */
export interface ChaosSchema extends Named<typeof chaosObject> {}
export const chaosSchema: ChaosSchema = chaosObject;

const reloadObject = strict({
  /** A configuration file (JSON or YAML, as `nest-resilience check` reads it) reloaded when it changes. */
  watch: z.string().min(1),
  /** How long the file must stay unchanged before it is read (editors write in steps). Default 200ms. */
  debounce: duration({ positive: true }),
  /** With Redis: a reload applied on one replica is published to every replica (default true). */
  fleet: z.boolean(),
  /** How often a replica reads the fleet's configuration besides the announcements. Default 2s. */
  syncInterval: duration({ positive: true }),
}).partial();
/** Named, so the declarations of the schemas that hold it refer to it instead of spelling it out. */
export interface ReloadSchema extends Named<typeof reloadObject> {}
export const reloadSchema: ReloadSchema = reloadObject;
