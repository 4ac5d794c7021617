import type { z } from 'zod';
import type { ChaosLatency } from '../../config/infra-schema.js';
import { chaosExperimentSchema } from '../../config/schema.js';
import type { ChaosFault } from '../../core/chaos/chaos-fault.js';
import { checkInjectableError } from '../../core/chaos/chaos-fault.js';
import type { ChaosExperiment } from '../../core/chaos/chaos-stage.js';
import { ResilienceConfigError } from '../../core/errors.js';
import type { SharedChaosExperiment } from '../../redis/chaos-store.js';
import { type ChaosScope, scopeMatcher } from './chaos-scope.js';

/** What an experiment is, in the form every replica can read (JSON: no predicate). */
export interface ExperimentFields {
  service: string;
  fault: 'latency' | 'error' | 'outcome';
  error?: string;
  latency?: ChaosLatency;
  value?: unknown;
  rate: number;
  arm?: 'stable' | 'rollout';
  per: 'attempt' | 'call';
  route?: string;
  key?: string;
}

/** A running experiment as the console and the admin API show it. */
export interface ChaosExperimentView {
  id: string;
  service: string;
  fault: 'latency' | 'error' | 'outcome';
  error?: string;
  /** A fixed latency, in seconds. */
  latencySeconds?: number;
  /** The latency as given, in seconds: fixed, `{ min, max }` (uniform) or `{ mean, max? }` (exponential). */
  latency?: ChaosLatency;
  rate: number;
  arm?: 'stable' | 'rollout';
  per: 'attempt' | 'call';
  /** Only calls serving this route ('VERB /path', '/path', '/prefix/*'). */
  route?: string;
  /** Only calls with this key. */
  key?: string;
  /** True when a predicate (`when`) narrows it (code: not shown). */
  when?: true;
  /** 'fleet': runs on every replica (Redis); 'local': on this one. */
  scope: 'local' | 'fleet';
  /** Wall time it ends (ISO 8601). */
  endsAt: string;
  startedBy: string;
  startedAt: string;
}

/** An experiment as ChaosExperiments keeps it: the stage's view, the console's, the fleet's. */
export interface Running extends ChaosExperiment {
  readonly view: ChaosExperimentView;
  readonly service: string;
  readonly arm?: 'stable' | 'rollout';
  /** Started through the fleet (Redis): it stops here when it is gone from there. */
  readonly fleet: boolean;
  /** Has a predicate: it cannot run on other replicas. */
  readonly local: boolean;
  readonly shared: SharedChaosExperiment;
}

/** A running experiment from its fields, its shared record (id, wall end, who, when) and its end on the module's clock. */
export function runningOf(
  fields: ExperimentFields,
  shared: SharedChaosExperiment,
  endsAt: number,
  fleet: boolean,
  when?: ChaosScope['when'],
): Running {
  const { service, fault, error, latency, value, rate, arm, per, route, key } = fields;
  const view: ChaosExperimentView = {
    id: shared.id,
    service,
    fault,
    ...(error ? { error } : {}),
    ...(latency === undefined ? {} : { latency }),
    ...(typeof latency === 'number' ? { latencySeconds: latency } : {}),
    rate,
    ...(arm ? { arm } : {}),
    per,
    ...(route ? { route } : {}),
    ...(key ? { key } : {}),
    ...(when ? { when: true as const } : {}),
    scope: fleet ? 'fleet' : 'local',
    endsAt: new Date(shared.endsAtWall).toISOString(),
    startedBy: String(shared.startedBy ?? 'unknown'),
    startedAt: String(shared.startedAt ?? ''),
  };
  return {
    id: shared.id,
    service,
    arm,
    rate,
    per,
    endsAt,
    view,
    fleet,
    local: when !== undefined,
    shared: { ...fields, ...shared },
    matches: scopeMatcher({ route, key, when }),
    fault:
      fault === 'latency'
        ? latencyFault(latency as ChaosLatency)
        : fault === 'error'
          ? { kind: 'error', error: error as string }
          : { kind: 'outcome', value },
  };
}

type ParsedExperiment = z.output<typeof chaosExperimentSchema>;

/** An experiment's fields from its parsed settings; a ResilienceConfigError names what is missing or wrong (at `path`). */
export function fieldsFrom(data: ParsedExperiment, path: string): ExperimentFields {
  const { service, fault, error, latency, value, rate, arm, per, route, key } = data;
  const missing = fault === 'error' && !error ? 'error' : fault === 'latency' && !latency ? 'latency' : undefined;
  if (missing) refuse(`${path}.${missing}`, `is required for a ${fault} fault`);
  if (fault === 'error') {
    try {
      checkInjectableError(error as string);
    } catch (problem) {
      refuse(`${path}.error`, (problem as Error).message);
    }
  }
  return { service, fault, error, latency, value, rate, arm, per: per ?? 'attempt', route, key };
}

/** How long an experiment runs, in ms: its `duration`, or until its `expiresAt` (one of them, in the future). */
export function lifetimeOf(data: ParsedExperiment, path: string, wallNow: number): number {
  const { duration, expiresAt } = data;
  if (duration !== undefined && expiresAt !== undefined)
    refuse(`${path}.expiresAt`, 'and duration are both given: give one');
  if (duration !== undefined) return duration * 1000;
  if (expiresAt === undefined) refuse(`${path}.duration`, 'is required (or expiresAt)');
  const lifetime = (typeof expiresAt === 'number' ? expiresAt : Date.parse(expiresAt)) - wallNow;
  if (!(lifetime > 0)) refuse(`${path}.expiresAt`, `is not in the future (${JSON.stringify(expiresAt)})`);
  return lifetime;
}

/** A fleet record's fields, checked as a new experiment's are (a damaged or foreign record runs nowhere). */
export function fieldsOf(shared: SharedChaosExperiment): ExperimentFields | undefined {
  const parsed = chaosExperimentSchema.safeParse({
    ...pick(shared, ['service', 'fault', 'error', 'latency', 'value', 'rate', 'arm', 'per', 'route', 'key']),
    duration: 1,
  });
  if (!parsed.success) return undefined;
  try {
    return fieldsFrom(parsed.data, 'fleet');
  } catch {
    return undefined;
  }
}

function pick(record: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((key) => record[key] !== undefined).map((key) => [key, record[key]]));
}

/** The core's latency fault (ms) for a latency in seconds, fixed or a distribution. */
function latencyFault(latency: ChaosLatency): Extract<ChaosFault, { kind: 'latency' }> {
  if (typeof latency === 'number') return { kind: 'latency', latencyMs: latency * 1000 };
  if ('mean' in latency)
    return {
      kind: 'latency',
      latencyMs: latency.mean * 1000,
      distribution: 'exponential',
      ...(latency.max === undefined ? {} : { maxMs: latency.max * 1000 }),
    };
  return { kind: 'latency', latencyMs: latency.min * 1000, distribution: 'uniform', maxMs: latency.max * 1000 };
}

function refuse(path: string, message: string): never {
  throw new ResilienceConfigError([{ path, message }]);
}
