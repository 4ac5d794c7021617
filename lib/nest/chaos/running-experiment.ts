import { chaosExperimentSchema } from '../../config/schema.js';
import { checkInjectableError } from '../../core/chaos/chaos-fault.js';
import type { ChaosExperiment } from '../../core/chaos/chaos-stage.js';
import type { SharedChaosExperiment } from '../../redis/chaos-store.js';
import { type ChaosScope, scopeMatcher } from './chaos-scope.js';

/** What an experiment is, in the form every replica can read (JSON: no predicate). */
export interface ExperimentFields {
  service: string;
  fault: 'latency' | 'error' | 'outcome';
  error?: string;
  latencySeconds?: number;
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
  latencySeconds?: number;
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
  const { service, fault, error, latencySeconds, value, rate, arm, per, route, key } = fields;
  const view: ChaosExperimentView = {
    id: shared.id,
    service,
    fault,
    ...(error ? { error } : {}),
    ...(latencySeconds ? { latencySeconds } : {}),
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
        ? { kind: 'latency', latencyMs: (latencySeconds as number) * 1000 }
        : fault === 'error'
          ? { kind: 'error', error: error as string }
          : { kind: 'outcome', value },
  };
}

/** A fleet record's fields, checked as a new experiment's are (a damaged or foreign record runs nowhere). */
export function fieldsOf(shared: SharedChaosExperiment): ExperimentFields | undefined {
  const { latencySeconds, ...rest } = shared;
  const parsed = chaosExperimentSchema.safeParse({
    ...pick(rest, ['service', 'fault', 'error', 'value', 'rate', 'arm', 'per', 'route', 'key']),
    ...(latencySeconds === undefined ? {} : { latency: latencySeconds }),
    duration: 1,
  });
  if (!parsed.success) return undefined;
  const { service, fault, error, latency, value, rate, arm, per, route, key } = parsed.data;
  if (fault === 'latency' && !latency) return undefined;
  if (fault === 'error') {
    try {
      checkInjectableError(error as string);
    } catch {
      return undefined;
    }
  }
  return { service, fault, error, latencySeconds: latency, value, rate, arm, per: per ?? 'attempt', route, key };
}

function pick(record: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((key) => record[key] !== undefined).map((key) => [key, record[key]]));
}
