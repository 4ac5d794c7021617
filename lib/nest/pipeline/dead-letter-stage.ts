import type { Logger } from '@nestjs/common';
import { ROLLOUT_SUFFIX } from '../../config/resolve.js';
import type { DlqSettings } from '../../config/types.js';
import type { Clock } from '../../core/clock.js';
import { describeError } from '../../core/dead-letter/serialize.js';
import type { AttemptRecord } from '../../core/dead-letter/types.js';
import { CircuitOpenError } from '../../core/errors.js';
import { callContext } from '../context/call-context.js';
import type { MethodRef } from '../decorators/wrap-method.js';
import type { ResilienceSettings } from '../resilience-settings.js';
import type { DeadLetterService } from '../services/dead-letter.service.js';
import type { Pipeline } from './types.js';

export interface DeadLetterDeps {
  deadLetters: DeadLetterService;
  settings: ResilienceSettings;
  clock: Clock;
  logger: Logger;
}

/** The W3C trace id (traceparent) or the X-Request-Id of the current request, if any. */
function traceIdOf(request: unknown): string | undefined {
  const headers = (request as { headers?: Record<string, unknown> } | undefined)?.headers;
  const traceparent = headers?.traceparent;
  if (typeof traceparent === 'string') return traceparent.split('-')[1];
  const requestId = headers?.['x-request-id'];
  return typeof requestId === 'string' ? requestId : undefined;
}

/**
 * Keeps a failed call's letter; resolves once it is stored. If it cannot be stored, it
 * says so in the log and resolves all the same: the caller still gets the call's error.
 */
export function letterKeeper(
  deps: DeadLetterDeps,
  ref: MethodRef,
  queueName: string,
  service: string,
  tier: string | undefined,
  options: DlqSettings | undefined,
): (args: unknown[], error: unknown, history: AttemptRecord[], reason: string) => Promise<boolean> {
  const queue = deps.deadLetters.declare(queueName, options, tier);
  const source = { service: service.replace(ROLLOUT_SUFFIX, ''), className: ref.className, method: ref.methodName };
  const logger = deps.logger;
  return (args, error, history, reason) =>
    queue
      .add({
        args,
        error,
        source,
        attempts: history.length,
        history,
        reason,
        traceId: traceIdOf(callContext.getStore()?.request),
      })
      .then(
        () => true,
        (addError: unknown) => {
          logger.error(
            `could not dead-letter a failed call of ${source.className}.${source.method} to "${queueName}": ${(addError as Error).message}`,
          );
          return false;
        },
      );
}

export function deadLetterStage(
  deps: DeadLetterDeps,
  inner: Pipeline,
  ref: MethodRef,
  queueName: string,
  service: string,
  tier?: string,
): Pipeline {
  const options = ref.metadata.dlq?.options ?? ref.metadata.resilient?.overrides?.dlq;
  const keep = letterKeeper(deps, ref, queueName, service, tier, options);
  const rethrow = options?.rethrow ?? deps.settings.resolve(service, { tier }).dlq.rethrow;
  const clock = deps.clock;
  return (call, args) => {
    const trail: AttemptRecord[] = [];
    return inner(call, args, trail).catch(async (error: unknown) => {
      const rejected = error instanceof CircuitOpenError && trail.length === 0;
      if (!rejected && trail.length === 0) trail.push({ attempt: 1, at: clock.now(), error: describeError(error) });
      const stored = await keep(args, error, trail, rejected ? 'circuit_open' : 'failed');
      // Never lose a call silently: if its letter could not be kept, the caller gets the failure.
      if (rethrow || !stored) throw error;
      return undefined;
    });
  };
}
