import type { z } from 'zod';
import { formatZodIssues } from '../../config/format-issues.js';
import type { ResolvedServiceConfig } from '../../config/resolved-types.js';
import type { ExtraAttemptBudget, ExtraAttemptBudgetOptions } from '../../core/budget/extra-attempt-budget.js';
import type { Clock } from '../../core/clock.js';
import type { ErrorClass } from '../../core/error-matchers.js';
import { ResilienceConfigError } from '../../core/errors.js';
import { STAGE_ORDER } from '../../core/pipeline/order.js';
import type { Stage } from '../../core/pipeline/stage.js';
import { type Rejection, registerRejection } from '../../core/rejections.js';
import { applyResilienceDecorator } from '../decorators/wrap-method.js';

/** A counter a pattern's events increment: labelled by `service` and the named fields of the event. */
export interface PatternMetric<E> {
  /** Its name as Prometheus shows it (a counter: ends in `_total`). */
  name: string;
  help: string;
  /** Fields of the event that label the series (configured names and outcomes, never request data). */
  labels: readonly (keyof E & string)[];
}

/** What a descriptor's `stage` gets to build the stage of one method. */
export interface PatternStageInput<O, E> {
  /** The decorator's options over the `patterns.<name>` sections of the configuration (defaults, tier, service, rollout). */
  options: O;
  /** The service whose settings apply (with the rollout's suffix on the rollout's arm). */
  service: string;
  /** The service's name without the rollout's suffix. */
  base: string;
  /** Which arm of the service this pipeline is. */
  arm: 'stable' | 'rollout';
  /** A provider of the application (a registry the pattern keeps state in). */
  get<T>(type: abstract new (...args: never[]) => T): T;
  /** `Class.method`, for errors that name it. */
  origin: string;
  /** The module's clock (a test's ManualClock, the simulator's virtual time). */
  clock: Clock;
  /** Tells metrics, the active span and listeners of one event of this pattern. */
  emit(event: E): void;
  /** The service's resolved settings of the core's patterns (a hedge reads the retry's budget). */
  resolved: ResolvedServiceConfig;
  /** The service's budget of extra attempts, shared by its retries and hedges (made on first use with `options`). */
  budget(options?: Omit<ExtraAttemptBudgetOptions, 'clock'>): ExtraAttemptBudget;
}

/**
 * Everything the Nest layer needs of a pattern, in one object: its stage kind and place in the
 * order, the options its decorator and its configuration sections take, how it builds its
 * stage, the metric and span event its events become, and the errors it turns calls away with.
 * `definePattern` registers it and returns its decorator.
 */
export interface PatternDescriptor<O extends object = object, E extends object = object> {
  /** The decorator's name without `@`, its key in the method's metadata, and its `patterns.<name>` section. */
  name: string;
  /** Its stage's kind. */
  kind: string;
  /** Its place, for a kind the core's order does not list: directly inside `after`, or directly outside `before`. */
  after?: string;
  before?: string;
  /**
   * Its stage is asked for on every decorated method (with the options the layers give, `{}`
   * when none), not only where a decorator or a section names it: a pattern that acts at run
   * time (chaos) decides itself, and returns no stage when it is off.
   */
  everyMethod?: boolean;
  /** Validates the decorator's options and each configuration section (errors name the path). */
  schema: z.ZodType<O, object>;
  /** Builds the stage of one method, or none (the options turn it off). */
  stage(input: PatternStageInput<O, E>): Stage | undefined;
  /** Counters its events increment. */
  metrics?: readonly PatternMetric<E>[];
  /** The name of the span event each of its events adds to the call's active span (attributes `resilience.<field>`). */
  spanEvent?: string;
  /** The errors it turns calls away with, and what each transport tells the client. */
  rejections?: readonly { error: ErrorClass; rejection: Omit<Rejection, 'retryAfter'> }[];
}

/** A registered pattern: its descriptor and its decorator. */
export interface DefinedPattern<O extends object, E extends object> {
  readonly descriptor: PatternDescriptor<O, E>;
  /** The method decorator; its options are validated when it is applied. */
  decorator(options?: z.input<PatternDescriptor<O, E>['schema']>): MethodDecorator;
}

const registry = new Map<string, PatternDescriptor>();

/** Every pattern defined with definePattern, in the order they were defined. */
export function definedPatterns(): readonly PatternDescriptor[] {
  return [...registry.values()];
}

/** Validates `input` with a descriptor's schema; a ResilienceConfigError names `path` and the problem. */
export function parsePatternOptions<O extends object, E extends object>(
  descriptor: PatternDescriptor<O, E>,
  input: unknown,
  path: string,
): O {
  const parsed = descriptor.schema.safeParse(input ?? {}, { reportInput: true });
  if (!parsed.success) throw new ResilienceConfigError(formatZodIssues(parsed.error.issues, path));
  return parsed.data;
}

/**
 * Registers a pattern (its stage, decorator, configuration section, metrics, span events and
 * error mapping) and returns its decorator. Define a pattern once, at import time, before the
 * classes it decorates. A name or kind defined twice, or one of the core's own, is an error.
 */
export function definePattern<O extends object, E extends object = object>(
  descriptor: PatternDescriptor<O, E>,
): DefinedPattern<O, E> {
  const { name, kind } = descriptor;
  if (!/^[a-z][a-zA-Z0-9]*$/.test(name)) {
    throw new TypeError(`definePattern: name "${name}" must be a camelCase identifier (it is a configuration key)`);
  }
  if (registry.has(name)) throw new TypeError(`definePattern: a pattern named "${name}" is defined already`);
  for (const other of registry.values()) {
    if (other.kind === kind) throw new TypeError(`definePattern: stage kind "${kind}" belongs to "${other.name}"`);
  }
  const builtIn = (STAGE_ORDER as readonly string[]).includes(kind);
  if (!builtIn && descriptor.after === undefined && descriptor.before === undefined) {
    throw new TypeError(`definePattern "${name}": kind "${kind}" needs a place, { after } or { before } another kind`);
  }
  registry.set(name, descriptor as unknown as PatternDescriptor);
  for (const { error, rejection } of descriptor.rejections ?? []) registerRejection(error, rejection);
  return {
    descriptor,
    decorator: (options) => {
      const own = parsePatternOptions(descriptor, options, `@${decoratorName(name)}`);
      return (target, propertyKey, method) =>
        applyResilienceDecorator(target, propertyKey, method, { patterns: { [name]: own } });
    },
  };
}

/** `hedge` → `Hedge`: the decorator's name in messages. */
export function decoratorName(name: string): string {
  return name[0].toUpperCase() + name.slice(1);
}
