import { Injectable } from '@nestjs/common';
import type { PatternSettings } from '../../config/types.js';
import { callContext } from '../context/call-context.js';
import type { MethodRef } from '../decorators/wrap-method.js';
import { ResilienceRuntime } from '../resilience-runtime.js';
import { optionsSignature } from './named-registry.js';

export interface ResilientCallOptions extends PatternSettings {
  /** Replaces the service's configured tier. */
  tier?: string;
  /**
   * Arguments to keep with a dead letter of this call (the function itself cannot be
   * stored); replay them with DeadLetterService.registerHandler(queue, 'ResilienceService.call', fn).
   */
  args?: unknown[];
  /** The call's key for the rate limiter and for a rollout (a customer, an account); default: from the request. */
  key?: string;
}

/**
 * The guide's `ResilientService(name, tier).call(operation)`: runs `fn` through the
 * service's full stack (outside in: rate limiter, dead letter, circuit breaker, retry), with the
 * settings of `services.<name>` and its tier, like @Resilient on a method.
 */
@Injectable()
export class ResilienceService {
  private readonly refs = new Map<string, MethodRef>();

  constructor(private readonly runtime: ResilienceRuntime) {}

  call<T>(name: string, fn: () => T | PromiseLike<T>, options: ResilientCallOptions = {}): Promise<T> {
    const { args = [], tier, key: callKey, ...overrides } = options;
    const key = `${name}\u0000${tier ?? ''}\u0000${optionsSignature(overrides)}`;
    let ref = this.refs.get(key);
    if (!ref) {
      ref = {
        className: 'ResilienceService',
        methodName: 'call',
        original: () => undefined,
        metadata: { resilient: { name, tier, overrides } },
      };
      try {
        // Built now, so overrides that contradict a breaker or limiter of this name reject this call.
        this.runtime.pipelineFor(ref);
      } catch (error) {
        return Promise.reject(error);
      }
      this.refs.set(key, ref);
    }
    if (callKey === undefined) return this.runtime.run(ref, fn, args) as Promise<T>;
    const current = callContext.getStore();
    return callContext.run({ type: current?.type ?? 'none', ...current, key: callKey }, () =>
      this.runtime.run(ref as MethodRef, fn, args),
    ) as Promise<T>;
  }
}
