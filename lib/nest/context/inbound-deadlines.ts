import { Inject, Injectable } from '@nestjs/common';
import type { Clock } from '../../core/clock.js';
import { type Criticality, parseCriticality } from '../../core/criticality.js';
import {
  DEFAULT_DEADLINE_HEADERS,
  type DeadlineHeaders,
  remainingFromHeaders,
  remainingOfRpc,
} from '../../core/deadline/inbound-deadline.js';
import { toMilliseconds } from '../../core/duration.js';
import { ResilienceSettings } from '../resilience-settings.js';
import { RESILIENCE_CLOCK } from '../tokens.js';
import type { CallContextStore } from './call-context.js';

/** The header a caller's criticality travels in, unless `criticality.header` says otherwise. */
export const CRITICALITY_HEADER = 'x-request-criticality';

/** The headers of an HTTP request (Express, Fastify) or a GraphQL context's request, lower-cased. */
function headersOf(request: unknown): Record<string, unknown> | undefined {
  const headers = (request as { headers?: unknown } | undefined)?.headers;
  return headers !== null && typeof headers === 'object' ? (headers as Record<string, unknown>) : undefined;
}

/**
 * The caller's deadline of the current request, read from its headers once (`deadline`
 * settings: the header names, the clamp `max`), on the module's clock.
 */
@Injectable()
export class InboundDeadlines {
  /** False when `deadline.enabled` is false: headers are not read. */
  readonly enabled: boolean;
  /** False when `criticality.enabled` is false. */
  readonly criticalityEnabled: boolean;
  private readonly headers: DeadlineHeaders;
  private readonly criticalityHeader: string;

  constructor(
    settings: ResilienceSettings,
    @Inject(RESILIENCE_CLOCK) private readonly clock: Clock,
  ) {
    const options = settings.config.deadline ?? {};
    const criticality = settings.config.criticality ?? {};
    this.criticalityEnabled = criticality.enabled !== false;
    this.criticalityHeader = (criticality.header ?? CRITICALITY_HEADER).toLowerCase();
    this.enabled = options.enabled !== false;
    this.headers = {
      absolute: (options.header ?? DEFAULT_DEADLINE_HEADERS.absolute).toLowerCase(),
      relative: (options.timeoutHeader ?? DEFAULT_DEADLINE_HEADERS.relative).toLowerCase(),
      maxMs: options.max === undefined ? DEFAULT_DEADLINE_HEADERS.maxMs : toMilliseconds(options.max, 'deadline.max'),
    };
  }

  /** The request's deadline on the module's clock, or undefined (none, or reading is off). */
  of(store: CallContextStore | undefined): number | undefined {
    if (!store || !this.enabled) return undefined;
    if (store.deadline === undefined) {
      const remaining = remainingFromHeaders(headersOf(store.request), Date.now(), this.headers);
      store.deadline = remaining === undefined ? null : this.clock.now() + remaining;
    }
    return store.deadline ?? undefined;
  }

  /**
   * Reads an RPC call's deadline and criticality into `store` (a handler's arguments: the
   * data, then gRPC's metadata and call): the call's gRPC deadline (its `grpc-timeout`), else
   * a `grpc-timeout` in the metadata, clamped to `deadline.max`; the class from the metadata's
   * criticality header. A transport without metadata (TCP, NATS) has neither.
   */
  readRpc(store: CallContextStore, args: readonly unknown[]): void {
    const metadata = args[1] as { get?: unknown } | undefined;
    const get =
      typeof metadata?.get === 'function'
        ? (key: string) => {
            const values: unknown = (metadata.get as (key: string) => unknown).call(metadata, key);
            return Array.isArray(values) && values.length === 1 ? values[0] : undefined;
          }
        : () => undefined;
    if (this.enabled) {
      const remaining = remainingOfRpc(args[2], get('grpc-timeout'), Date.now(), this.headers.maxMs);
      store.deadline = remaining === undefined ? null : this.clock.now() + remaining;
    }
    if (this.criticalityEnabled) store.criticality = parseCriticality(get(this.criticalityHeader)) ?? null;
  }

  /** The request's criticality from its header, or undefined (none, a value we do not know, or reading is off). */
  criticalityOf(store: CallContextStore | undefined): Criticality | undefined {
    if (!store || !this.criticalityEnabled) return undefined;
    if (store.criticality === undefined) {
      store.criticality = parseCriticality(headersOf(store.request)?.[this.criticalityHeader]) ?? null;
    }
    return store.criticality ?? undefined;
  }

  now(): number {
    return this.clock.now();
  }
}
