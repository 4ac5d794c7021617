import { Injectable } from '@nestjs/common';
import { defer, from, isObservable, lastValueFrom, Observable } from 'rxjs';
import type { MethodInvoker, MethodRef } from './decorators/wrap-method.js';
import { CircuitBreakerService } from './services/circuit-breaker.service.js';
import { RetryService } from './services/retry.service.js';

type Call = () => unknown;
type Pipeline = (call: Call) => Promise<unknown>;

/**
 * Runs decorated methods of one application: builds each method's pipeline once (at
 * bootstrap, so bad options fail there) and sends every call through it.
 */
@Injectable()
export class ResilienceRuntime implements MethodInvoker {
  private readonly pipelines = new Map<MethodRef, Pipeline>();
  private readonly returnsObservable = new WeakSet<MethodRef>();

  constructor(
    private readonly circuits: CircuitBreakerService,
    private readonly retries: RetryService,
  ) {}

  /** Builds the method's pipeline now; throws what its options get wrong. */
  prepare(ref: MethodRef, prototype: object): void {
    this.pipelineFor(ref);
    if (Reflect.getMetadata('design:returntype', prototype, ref.methodName) === Observable) {
      this.returnsObservable.add(ref);
    }
  }

  invoke(target: object, ref: MethodRef, args: unknown[]): unknown {
    const pipeline = this.pipelineFor(ref);
    let sawObservable = false;
    const call = () => {
      const result = ref.original.apply(target, args);
      if (!isObservable(result)) return result;
      sawObservable = true;
      return lastValueFrom(result);
    };
    if (this.returnsObservable.has(ref)) {
      // Lazy, like the Observable it replaces: each subscription runs the pipeline again.
      return defer(() => from(pipeline(call)));
    }
    const promise = pipeline(call);
    if (!sawObservable) return promise;
    this.returnsObservable.add(ref);
    return from(promise);
  }

  private pipelineFor(ref: MethodRef): Pipeline {
    let pipeline = this.pipelines.get(ref);
    if (!pipeline) {
      pipeline = this.build(ref);
      this.pipelines.set(ref, pipeline);
    }
    return pipeline;
  }

  /** The guide's order: rate limiter, circuit breaker, retry, dead letter, operation. */
  private build(ref: MethodRef): Pipeline {
    const { circuit, retry, resilient } = ref.metadata;
    const service = resilient?.name ?? ref.className;
    let pipeline: Pipeline = (call) => {
      try {
        return Promise.resolve(call());
      } catch (error) {
        return Promise.reject(error);
      }
    };
    // Built from the inside out: retry wraps the operation, the breaker wraps the retries.
    if (retry) {
      const options = typeof retry.options === 'string' ? { preset: retry.options } : (retry.options ?? {});
      const operation = options.operation ?? `${ref.className}.${ref.methodName}`;
      const policy = this.retries.policy(operation, { service, ...options });
      const inner = pipeline;
      pipeline = (call) => policy.execute(() => inner(call));
    }
    if (circuit) {
      const breaker = this.circuits.get(circuit.name ?? service, circuit.options);
      const inner = pipeline;
      pipeline = (call) => breaker.execute(() => inner(call));
    }
    return pipeline;
  }
}
