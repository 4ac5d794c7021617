import { type Clock, systemClock } from '../clock.js';
import type { ResilienceContext } from '../pipeline/context.js';
import type { Stage } from '../pipeline/stage.js';
import { type ChaosFault, ChaosInjectedError, drawLatency } from './chaos-fault.js';

/** One running experiment, as the stage reads it. */
export interface ChaosExperiment {
  readonly id: string;
  readonly fault: ChaosFault;
  /** Share of the calls (attempts) it hits, 0 to 1. */
  readonly rate: number;
  /** When it ends, on the stage clock's time (it injects nothing from then on). */
  readonly endsAt: number;
  /** Which calls it may hit (a rollout arm, a key); none: every call of its service. */
  readonly matches?: (context: ResilienceContext) => boolean;
  /**
   * 'attempt' (default): each attempt is drawn on its own, as a flaky dependency fails attempts
   * (a retry may get through). 'call': the first attempt's draw holds for every attempt of the
   * call, as a dependency that is down for that request (the retries fail too).
   */
  readonly per?: 'attempt' | 'call';
}

export interface ChaosStageOptions {
  /** The experiments running now for this pipeline's service (read on every call: the list may change). */
  experiments: () => readonly ChaosExperiment[];
  clock?: Clock;
  /** 0 <= x < 1; injectable for exact tests. */
  random?: () => number;
  /** Told of each injection. */
  onInjected?: (experiment: ChaosExperiment, context: ResilienceContext) => void;
}

/**
 * Chaos on purpose: innermost, around the operation itself, so every other stage (retry,
 * breaker, bulkhead, dead letter) sees an injected outcome exactly as a real one. By default
 * each attempt is drawn on its own (a retry may get through, as with a flaky dependency);
 * `per: 'call'` draws once per call. An experiment hits with probability `rate`, until
 * `endsAt`; the first experiment that hits decides.
 */
export function chaosStage(options: ChaosStageOptions): Stage {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const { experiments, onInjected } = options;
  const delay = (ms: number) =>
    new Promise<void>((resolve) => {
      if (clock.timers) clock.timers.setTimeout(resolve, ms);
      else setTimeout(resolve, ms);
    });
  return {
    kind: 'chaos',
    failures: 'reports-own',
    wrap(next) {
      const inject = (experiment: ChaosExperiment, context: ResilienceContext): Promise<unknown> => {
        onInjected?.(experiment, context);
        const fault = experiment.fault;
        if (fault.kind === 'latency') return delay(drawLatency(fault, random)).then(() => next(context));
        if (fault.kind === 'outcome') return Promise.resolve(fault.value);
        return Promise.reject(new ChaosInjectedError(fault.error, experiment.id));
      };
      // A call's draws for experiments `per: 'call'` (its attempts share its context).
      const drawn = new WeakMap<ResilienceContext, Map<string, boolean>>();
      const hits = (experiment: ChaosExperiment, context: ResilienceContext): boolean => {
        if (experiment.per !== 'call') return random() < experiment.rate;
        let draws = drawn.get(context);
        if (!draws) {
          draws = new Map();
          drawn.set(context, draws);
        }
        let hit = draws.get(experiment.id);
        if (hit === undefined) {
          hit = random() < experiment.rate;
          draws.set(experiment.id, hit);
        }
        return hit;
      };
      return (context) => {
        const running = experiments();
        if (running.length === 0) return next(context);
        const now = clock.now();
        for (const experiment of running) {
          if (experiment.endsAt <= now || (experiment.matches && !experiment.matches(context))) continue;
          if (hits(experiment, context)) return inject(experiment, context);
        }
        return next(context);
      };
    },
  };
}
