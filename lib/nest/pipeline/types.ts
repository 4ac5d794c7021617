import type { ResilienceContext } from '../../core/pipeline/context.js';
import type { Stage } from '../../core/pipeline/stage.js';
import type { CallContextStore } from '../context/call-context.js';
import type { RateLimitKeyContext } from '../context/rate-limit-key.js';
import type { MethodRef } from '../decorators/wrap-method.js';

/** Runs the method (again, for a retry). */
export type Call = () => unknown;

/** A method's way through its stages: `call` runs the method itself. */
export type Pipeline = (call: Call, args: unknown[]) => Promise<unknown>;

/** A method's pipeline, and the same without its dead-letter stage (for replays). */
export interface Built {
  pipeline: Pipeline;
  replay: Pipeline;
}

/** One call's context in a Nest app: the core's, plus the request's store. */
export interface NestCallContext extends ResilienceContext {
  /** The current request's store (for keys and response headers), if any. */
  readonly store?: CallContextStore;
  /** The method call this context runs. */
  readonly call: Call;
  /** Built on first use: what key, tier and cost functions are given. */
  keyContext?: RateLimitKeyContext;
  /** Times the method ran, counted only while a trace records the call. */
  tries?: number;
}

/** What a stage factory is asked to build a stage for: one method, one arm of its service. */
export interface StagePlan {
  ref: MethodRef;
  /** The service the method belongs to (@Resilient's name, else its class). */
  base: string;
  /** '' for the stable arm, ROLLOUT_SUFFIX for the rollout's. */
  suffix: string;
  /** `base` + `suffix`: whose settings apply. */
  service: string;
  tier?: string;
  /** Where the pipeline comes from, for errors that name it. */
  origin: string;
}

/** Builds one pattern's stage for a method, or none when the method does not use it. */
export interface StageFactory {
  readonly kind: string;
  create(plan: StagePlan): Stage | undefined;
}

/** The key context of a call, built once per call. */
export function keyContextOf(context: NestCallContext): RateLimitKeyContext {
  let keyContext = context.keyContext;
  if (!keyContext) {
    keyContext = {
      args: context.args as unknown[],
      request: context.request as RateLimitKeyContext['request'],
      type: context.store?.type ?? 'none',
    };
    context.keyContext = keyContext;
  }
  return keyContext;
}
