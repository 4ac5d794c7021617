import { Injectable, Optional } from '@nestjs/common';
import { defer, from, isObservable, lastValueFrom } from 'rxjs';
import { type CallContextStore, callContext } from './context/call-context.js';
import { declaredReturn, isNestHandler, refuseSynchronous, warnSynchronous } from './decorators/synchronous-methods.js';
import type { MethodInvoker, MethodRef } from './decorators/wrap-method.js';
import { RouteCall } from './http/route-call.js';
import { observableAndPromise } from './observable-and-promise.js';
import { DeadLetterStageFactory } from './pipeline/dead-letter-stage.js';
import { PipelineBuilder } from './pipeline/pipeline-builder.js';
import type { Built, Pipeline } from './pipeline/types.js';
import type { ReloadStep } from './reload/reload-types.js';
import { ResilienceSettings } from './resilience-settings.js';
import { DeadLetterService } from './services/dead-letter.service.js';

/** Ends a route call: headers on success, our errors mapped (ResilienceInterceptor). */
interface RouteFinisher {
  finishRoute(result: Promise<unknown>, response: unknown, store: CallContextStore): Promise<unknown>;
}

/**
 * Runs decorated methods of one application: builds each method's pipeline once (at
 * bootstrap, so bad options fail there) and sends every call through it.
 */
@Injectable()
export class ResilienceRuntime implements MethodInvoker {
  private pipelines = new Map<MethodRef, Built>();
  /** One more per applied reload: a method's cached pipeline of an earlier version is rebuilt. */
  private version = 0;
  /** What each method returns, declared or learned: an Observable, or a Promise (or a plain value). */
  private readonly returns = new WeakMap<MethodRef, 'observable' | 'promise'>();
  private readonly routeRefs = new WeakMap<object, MethodRef>();
  private routeFinisher?: RouteFinisher;

  constructor(
    private readonly builder: PipelineBuilder,
    private readonly letters: DeadLetterStageFactory,
    private readonly deadLetters: DeadLetterService,
    @Optional() settings?: ResilienceSettings,
  ) {
    settings?.participate({ order: 20, apply: () => this.rebuild() });
  }

  /**
   * A reload: every method's pipeline is built again from the settings now in force (so a
   * method the new settings break refuses the reload), and new calls take them; a call in
   * flight finishes under the pipeline it started with.
   */
  private rebuild(): ReloadStep {
    const previous = this.pipelines;
    const next = new Map<MethodRef, Built>();
    for (const ref of previous.keys()) next.set(ref, this.builder.build(ref));
    this.pipelines = next;
    this.version++;
    return {
      changed: next.size > 0 ? [`pipelines (${next.size})`] : [],
      rollback: () => {
        this.pipelines = previous;
        this.version--;
      },
    };
  }

  /** Builds the method's pipeline now; throws what its options get wrong. */
  prepare(ref: MethodRef, prototype: object): void {
    const declared = Reflect.getMetadata('design:returntype', prototype, ref.methodName);
    const method = (prototype as Record<string, unknown>)[ref.methodName];
    refuseSynchronous(ref, declared, method);
    ref.routeHandler = isNestHandler(method);
    this.pipelineFor(ref);
    const kind = declaredReturn(declared);
    if (kind === 'observable' || kind === 'promise') this.returns.set(ref, kind);
  }

  /** Lets DeadLetterService replay this method's letters on `instance` (the stages but the dead letter). */
  registerReplay(ref: MethodRef, instance: object): void {
    const queue = this.letters.queueOf(ref);
    if (!queue) return;
    // The pipeline in force when the letter is replayed (a reload may have rebuilt it).
    this.deadLetters.registerHandler(queue, `${ref.className}.${ref.methodName}`, (args) =>
      this.pipelineFor(ref).replay(() => {
        const result = ref.original.apply(instance, args);
        return isObservable(result) ? lastValueFrom(result) : result;
      }, args),
    );
  }

  /**
   * Runs an undecorated route handler through a service's stack (from `http.routes`):
   * `call` runs the handler (again, for a retry).
   */
  invokeRoute(
    handler: object,
    className: string,
    service: string,
    call: () => Promise<unknown>,
    args: unknown[],
  ): Promise<unknown> {
    let ref = this.routeRefs.get(handler);
    if (!ref) {
      const methodName = (handler as { name?: string }).name ?? 'handler';
      ref = {
        className,
        methodName,
        original: () => undefined,
        metadata: { resilient: { name: service } },
        routeHandler: true,
      };
      this.routeRefs.set(handler, ref);
    }
    return this.pipelineFor(ref).pipeline(call, args);
  }

  /** Runs `fn` through the pipeline of `ref` (ResilienceService.call). */
  run(ref: MethodRef, fn: () => unknown, args: unknown[]): Promise<unknown> {
    return this.pipelineFor(ref).pipeline(() => {
      const result = fn();
      return isObservable(result) ? lastValueFrom(result) : result;
    }, args);
  }

  /** Set in 'routes' mode: ends decorated routes that run with a RouteCall instead of an interceptor. */
  finishRoutesWith(finisher: RouteFinisher): void {
    this.routeFinisher = finisher;
  }

  invoke(target: object, ref: MethodRef, args: unknown[]): unknown {
    const last = args[args.length - 1];
    if (last instanceof RouteCall) {
      const own = args.slice(0, -1);
      const finisher = this.routeFinisher;
      if (!finisher) return this.invokeMethod(target, ref, own);
      const store: CallContextStore = { type: 'http', request: last.request };
      const result = callContext.run(store, () => {
        const out = this.invokeMethod(target, ref, own);
        return isObservable(out) ? lastValueFrom(out) : (out as Promise<unknown>);
      });
      return finisher.finishRoute(result, last.response, store);
    }
    return this.invokeMethod(target, ref, args);
  }

  private invokeMethod(target: object, ref: MethodRef, args: unknown[]): unknown {
    let cached = ref.cached;
    if (cached?.runtime !== this || cached.version !== this.version) {
      cached = {
        runtime: this,
        version: this.version,
        pipeline: this.pipelineFor(ref).pipeline,
        returns: this.returns.get(ref) ?? 'undecided',
      };
      ref.cached = cached;
    }
    const known = cached;
    const pipeline = known.pipeline as Pipeline;
    let returned: 'observable' | 'promise' | undefined;
    /** What the method's first run says it returns, kept for the calls after it. */
    const learn = (kind: 'observable' | 'promise') => {
      returned ??= kind;
      if (known.returns !== 'undecided') return;
      known.returns = kind;
      this.returns.set(ref, kind);
    };
    const call = () => {
      let result: unknown;
      try {
        result = ref.original.apply(target, args);
      } catch (error) {
        warnSynchronous(ref, 'threw synchronously');
        throw error;
      }
      if (result instanceof Promise) {
        learn('promise');
        return result;
      }
      if (!isObservable(result)) {
        if (typeof (result as { then?: unknown } | null)?.then !== 'function')
          warnSynchronous(ref, 'returned a plain value');
        learn('promise');
        return result;
      }
      learn('observable');
      return lastValueFrom(result);
    };
    if (known.returns === 'observable') {
      // Lazy, like the Observable it replaces: each subscription runs the pipeline again.
      return defer(() => from(pipeline(call, args)));
    }
    const promise = pipeline(call, args);
    if (returned === 'observable') return from(promise);
    if (returned === 'promise' || known.returns === 'promise') return promise;
    // Not run yet, and nothing yet says which: both, until a run tells (the next calls).
    return observableAndPromise(promise);
  }

  /** The method's pipeline, built on first use (a conflict between named settings throws here). */
  pipelineFor(ref: MethodRef): Built {
    let built = this.pipelines.get(ref);
    if (!built) {
      built = this.builder.build(ref);
      this.pipelines.set(ref, built);
    }
    return built;
  }
}
