import { rankOf } from '../criticality.js';
import { RateLimitExceededError } from '../errors.js';
import { exceeded, type RateLimiter } from '../rate-limiter/rate-limiter.js';
import type { RateLimitVerdict } from '../rate-limiter/types.js';
import type { ResilienceContext } from './context.js';
import type { Stage } from './stage.js';

export interface RateLimitStageOptions {
  /** The limiter, or a function choosing one per call (a limiter per client tier). */
  limiter: RateLimiter | ((context: ResilienceContext) => RateLimiter);
  /** The call's key. Default: `context.key`, else 'global'. */
  key?: (context: ResilienceContext) => string;
  /** Units the call takes. Default 1. */
  cost?: number | ((context: ResilienceContext) => number);
  /** Gets the verdict of each admitted call (e.g. for RateLimit response headers). */
  onAdmitted?: (verdict: RateLimitVerdict, context: ResilienceContext) => void;
  /** Whether this call wants onAdmitted (so a verdict is built only when someone reads it). */
  wantsVerdict?: (context: ResilienceContext) => boolean;
  /** Told of each call the limiter refused (e.g. a tracing span event), before it is rejected. */
  onRejected?: (error: RateLimitExceededError, context: ResilienceContext) => void;
}

const keyOfContext = (context: ResilienceContext) => context.key ?? 'global';

/**
 * The share of a limiter's capacity each criticality (by rank) must leave free: critical_plus
 * and critical none, sheddable_plus 10%, sheddable 20%. Decided: a reserve (a limiter cannot
 * queue, so it cannot order calls as the bulkhead does).
 */
const RESERVED_SHARE = [0, 0, 0.1, 0.2] as const;

/**
 * Admits the call or rejects it with RateLimitExceededError (`rejectedBy: 'rate_limited'`);
 * a sheddable call also when the limiter is nearly used up (RESERVED_SHARE).
 */
export function rateLimitStage(options: RateLimitStageOptions): Stage {
  const { limiter, cost = 1, onAdmitted, wantsVerdict, onRejected } = options;
  const keyOf = options.key ?? keyOfContext;
  const choose = typeof limiter === 'function' ? limiter : () => limiter;
  return {
    kind: 'rate_limit',
    failures: 'reports-own',
    wrap(next, hooks) {
      const report = hooks.finalFailure;
      const refuse = (error: unknown, context: ResilienceContext): Promise<never> => {
        if (error instanceof RateLimitExceededError) {
          context.rejectedBy = 'rate_limited';
          onRejected?.(error, context);
        }
        return report ? report(error, context).then(() => Promise.reject(error)) : Promise.reject(error);
      };
      const decide = (
        context: ResilienceContext,
        chosen: RateLimiter,
        key: string,
        units: number,
      ): Promise<unknown> => {
        let decision: ReturnType<RateLimiter['tryDecideSync']>;
        try {
          // A memory limiter decides at once: no promise in the way of the call.
          decision = chosen.tryDecideSync(key, units);
        } catch (error) {
          return Promise.reject(error);
        }
        if (decision) {
          // The decision object is shared: read it before anyone else decides.
          const allowed = decision.allowed;
          const wanted = onAdmitted !== undefined && (wantsVerdict?.(context) ?? true);
          const verdict = !allowed || wanted ? chosen.verdictOf(decision) : undefined;
          chosen.recordDecision(allowed);
          if (!allowed) return refuse(exceeded(verdict as RateLimitVerdict), context);
          if (verdict) onAdmitted?.(verdict, context);
          return next(context);
        }
        // acquire reports its decision to the limiter's onDecision itself.
        return chosen.acquire(key, units).then(
          (verdict) => {
            if (onAdmitted && (wantsVerdict?.(context) ?? true)) onAdmitted(verdict, context);
            return next(context);
          },
          (error: unknown) => refuse(error, context),
        );
      };
      /**
       * A sheddable call must leave a reserve for more important ones: it is admitted only if the
       * limiter could admit it and the reserve too (asked without counting), so under
       * saturation the lower classes are refused first and no token is spent on a refusal.
       */
      const reserved = (
        context: ResilienceContext,
        chosen: RateLimiter,
        key: string,
        units: number,
        extra: number,
      ): Promise<unknown> =>
        chosen.check(key, units + extra).then(
          (verdict) => {
            if (verdict.allowed) return decide(context, chosen, key, units);
            chosen.recordDecision(false);
            return refuse(exceeded(verdict), context);
          },
          (error: unknown) => refuse(error, context),
        );
      return (context) => {
        let chosen: RateLimiter;
        let key: string;
        let units: number;
        try {
          chosen = choose(context);
          key = keyOf(context);
          // Kept for what reads the call afterwards (a trace hashes it); a retry asks the same key again.
          context.key = key;
          units = typeof cost === 'function' ? cost(context) : cost;
        } catch (error) {
          return Promise.reject(error);
        }
        const share = context.criticality === undefined ? 0 : RESERVED_SHARE[rankOf(context.criticality)];
        if (share > 0) {
          const extra = Math.min(Math.ceil(share * chosen.capacity), chosen.capacity - units);
          if (extra > 0) return reserved(context, chosen, key, units, extra);
        }
        return decide(context, chosen, key, units);
      };
    },
  };
}
