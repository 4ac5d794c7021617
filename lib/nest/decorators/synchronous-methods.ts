import { ResilienceConfigError } from '../../core/errors.js';
import type { MethodRef } from './wrap-method.js';

/** Metadata keys Nest puts on handlers (HTTP routes, message and event patterns, GraphQL resolvers). */
export const HANDLER_KEYS = ['path', 'microservices:pattern', 'graphql:resolver_type', 'message'];

/** True when Nest itself calls the method (a route or message handler), and so awaits what it returns. */
export function isNestHandler(method: unknown): boolean {
  return typeof method === 'function' && HANDLER_KEYS.some((key) => Reflect.hasMetadata(key, method));
}

/**
 * Declared return types (design:returntype, as tsc emits it) that say nothing about sync or
 * async: none (`void`, inferred), Object (`any`, unions, type aliases, interfaces, generic
 * aliases) and Function. tsc emits Function for a type it knows only as a type: an Observable
 * or a Promise subclass imported with `import type` or `{ type Observable }` (what
 * `verbatimModuleSyntax` and lint rules ask for), under either isolatedModules setting, as
 * for a function type. Such methods are watched at their first call instead (warnSynchronous).
 */
const UNDECIDED: ReadonlySet<unknown> = new Set([undefined, Object, Function]);

/**
 * A decorated method returns a Promise (or an Observable): the patterns wait, retry and
 * time calls. A method declared to return a plain value (`add(n: number): number`) would
 * silently become async (`n + 1` turning into "[object Promise]1", a throw escaping the
 * caller's try/catch), so it is refused at bootstrap, by name. Route and message handlers
 * are exempt: Nest calls them and awaits whatever they return.
 */
export function refuseSynchronous(ref: MethodRef, declared: unknown, method: unknown): void {
  // Nest awaits a handler's result whatever it is: a sync route handler may stay as it is.
  if (!isDeclaredSynchronous(declared) || isNestHandler(method)) return;
  const name = (declared as { name?: string }).name ?? '';
  throw new ResilienceConfigError([
    {
      path: `${ref.className}.${ref.methodName}`,
      message: `is declared to return ${name || 'a plain value'}, but a method with resilience decorators returns a Promise: declare it async (or return a Promise or an Observable)`,
    },
  ]);
}

/** What a method's declared return type says it returns. */
export type DeclaredReturn = 'observable' | 'promise' | 'sync' | 'undecided';

/**
 * The declared return type (design:returntype) read: 'sync' only for a type that is certainly
 * synchronous, a class (Number, String, Array, Date, Map, a class of your own) whose
 * instances are neither thenables (a Promise or a subclass, Bluebird) nor subscribable (an
 * Observable, a Subject, from any copy of rxjs).
 */
export function declaredReturn(declared: unknown): DeclaredReturn {
  if (typeof declared !== 'function' || UNDECIDED.has(declared)) return 'undecided';
  const { name, prototype } = declared as { name?: string; prototype?: Record<string, unknown> };
  if (name === 'Observable' || typeof prototype?.subscribe === 'function') return 'observable';
  if (name === 'Promise' || typeof prototype?.then === 'function') return 'promise';
  return 'sync';
}

/** True only for a declared return type that is certainly synchronous (see declaredReturn). */
export function isDeclaredSynchronous(declared: unknown): boolean {
  return declaredReturn(declared) === 'sync';
}

const warned = new WeakSet<MethodRef>();

/** For methods whose declared type could not tell: says so once, at the first sign. */
export function warnSynchronous(ref: MethodRef, what: string): void {
  // Nest awaits a route or message handler's result, whatever it is: nothing to warn about.
  if (ref.routeHandler || warned.has(ref)) return;
  warned.add(ref);
  process.emitWarning(
    `${ref.className}.${ref.methodName} ${what}, but with resilience decorators it returns a Promise: callers must await it. Declare it async.`,
    { code: 'NEST_RESILIENCE_SYNC_METHOD' },
  );
}
