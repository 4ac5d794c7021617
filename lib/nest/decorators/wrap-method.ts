import { isObservable, type Observable } from 'rxjs';
import {
  getResilienceMetadata,
  ORIGINAL_METHOD,
  RESILIENCE_METADATA,
  type ResilienceMethodMetadata,
  RUNTIME,
} from '../metadata.js';

/** What the wrapper hands a call to once the module has bound a runtime. */
export interface MethodInvoker {
  invoke(target: object, method: MethodRef, args: unknown[]): unknown;
}

/** A decorated method: its class, name, original function and our metadata. */
export interface MethodRef {
  className: string;
  methodName: string;
  original: (...args: unknown[]) => unknown;
  metadata: ResilienceMethodMetadata;
  /** Nest calls it as a route or message handler (set at bootstrap). */
  routeHandler?: boolean;
  /**
   * The last runtime that ran this method, its pipeline (saves a lookup per call) and what the
   * method returns: declared, or learned at its first call when the declaration could not tell.
   */
  cached?: { runtime: object; version: number; pipeline: unknown; returns: 'observable' | 'promise' | 'undecided' };
}

const warnedUnbound = new WeakSet<object>();

/**
 * Applies one of our decorators. The first one on a method replaces it with a single
 * wrapper (so the patterns apply exactly once, in the guide's order, whatever order
 * the decorators are written in) and copies every metadata key other decorators set,
 * so guards, route and swagger metadata stay visible. Later ones only merge metadata.
 */
export function applyResilienceDecorator(
  target: object,
  propertyKey: string | symbol,
  descriptor: PropertyDescriptor,
  patch: ResilienceMethodMetadata,
): PropertyDescriptor {
  const current = descriptor.value as ((...args: unknown[]) => unknown) & { [ORIGINAL_METHOD]?: unknown };
  if (typeof current !== 'function') {
    throw new TypeError(`nest-resilience decorators go on methods; ${String(propertyKey)} is not one`);
  }
  const existing = getResilienceMetadata(current) ?? {};
  const twice = (name: string) =>
    new TypeError(`${target.constructor.name}.${String(propertyKey)}: @${name} is applied twice to the same method`);
  for (const key of Object.keys(patch) as (keyof ResilienceMethodMetadata)[]) {
    if (key === 'patterns') {
      for (const name of Object.keys(patch.patterns ?? {})) {
        if (existing.patterns?.[name]) throw twice(name[0].toUpperCase() + name.slice(1));
      }
    } else if (existing[key]) {
      throw twice(decoratorName(key));
    }
  }
  const metadata: ResilienceMethodMetadata = { ...existing, ...patch };
  // Defined patterns share one key: each decorator adds its own entry.
  if (patch.patterns && existing.patterns) metadata.patterns = { ...existing.patterns, ...patch.patterns };
  const alreadyWrapped = current[ORIGINAL_METHOD] as MethodRef | undefined;
  if (alreadyWrapped) {
    alreadyWrapped.metadata = metadata;
    Reflect.defineMetadata(RESILIENCE_METADATA, metadata, current);
    return descriptor;
  }
  const ref: MethodRef = {
    className: target.constructor.name,
    methodName: String(propertyKey),
    original: current,
    metadata,
  };
  const wrapper = function (this: object, ...args: unknown[]): unknown {
    const invoker = runtimeOf(this);
    if (!invoker) {
      warnUnbound(ref, wrapper);
      return current.apply(this, args);
    }
    return invoker.invoke(this, ref, args);
  };
  Object.defineProperty(wrapper, 'name', { value: current.name });
  Object.defineProperty(wrapper, 'length', { value: current.length });
  for (const key of Reflect.getMetadataKeys(current)) {
    Reflect.defineMetadata(key, Reflect.getMetadata(key, current), wrapper);
  }
  Reflect.defineMetadata(RESILIENCE_METADATA, metadata, wrapper);
  Object.defineProperty(wrapper, ORIGINAL_METHOD, { value: ref });
  descriptor.value = wrapper;
  return descriptor;
}

function runtimeOf(instance: object | undefined): MethodInvoker | undefined {
  if (!instance) return undefined;
  return (
    ((instance as Record<symbol, unknown>)[RUNTIME] as MethodInvoker | undefined) ??
    ((instance.constructor as unknown as Record<symbol, unknown> | undefined)?.[RUNTIME] as MethodInvoker | undefined)
  );
}

function warnUnbound(ref: MethodRef, wrapper: object): void {
  if (warnedUnbound.has(wrapper)) return;
  warnedUnbound.add(wrapper);
  process.emitWarning(
    `${ref.className}.${ref.methodName} was called on an instance ResilienceModule has not bound (created with \`new\`, or the module is not imported); it runs without resilience.`,
    { code: 'NEST_RESILIENCE_UNBOUND' },
  );
}

/** The MethodRef of a wrapped method, if it is ours. */
export function methodRefOf(method: unknown): MethodRef | undefined {
  return typeof method === 'function'
    ? ((method as unknown as Record<symbol, MethodRef>)[ORIGINAL_METHOD] ?? undefined)
    : undefined;
}

function decoratorName(key: Exclude<keyof ResilienceMethodMetadata, 'patterns'>): string {
  return {
    circuit: 'CircuitBreaker',
    retry: 'Retry',
    rate: 'RateLimit',
    dlq: 'DeadLetter',
    bulkhead: 'Bulkhead',
    timeout: 'Timeout',
    deadline: 'Deadline',
    criticality: 'Criticality',
    resilient: 'Resilient',
  }[key];
}

export type MaybeObservable<T> = T | Promise<T> | Observable<T>;
export { isObservable };
