import { Injectable } from '@nestjs/common';
import { deadlineStage } from '../../core/deadline/deadline-stage.js';
import { toMilliseconds } from '../../core/duration.js';
import { type Event, EventSource } from '../../core/events.js';
import type { Stage } from '../../core/pipeline/stage.js';
import { InboundDeadlines } from '../context/inbound-deadlines.js';
import { type NestCallContext, type StageFactory, type StagePlan } from './types.js';

/**
 * What the caller said, and the method's own: the deadline (request headers, @Deadline's; a
 * call nobody waits for stops) and the criticality (@Criticality's, else the request's header).
 */
@Injectable()
export class DeadlineStageFactory implements StageFactory {
  readonly kind = 'deadline';
  private readonly exceeded = new EventSource<{ service: string }>();
  /** A call was refused, or stopped, at its deadline. */
  readonly onExceeded: Event<{ service: string }> = this.exceeded.event;

  constructor(private readonly inbound: InboundDeadlines) {}

  create({ ref, service, origin }: StagePlan): Stage | undefined {
    const declared = ref.metadata.deadline?.duration;
    const ownMs = declared === undefined ? undefined : toMilliseconds(declared, `${origin} @Deadline`);
    if (ownMs !== undefined && !(ownMs > 0)) throw new RangeError(`${origin}: @Deadline must be > 0, got ${declared}`);
    const ownClass = ref.metadata.criticality?.level;
    if (ownMs === undefined && !this.inbound.enabled && !ownClass && !this.inbound.criticalityEnabled) return undefined;
    const inbound = this.inbound;
    const exceeded = this.exceeded;
    return deadlineStage({
      clock: { now: () => inbound.now() },
      // The method knows what its work is: its class wins over what a caller claims.
      criticalityOf: ownClass
        ? () => ownClass
        : inbound.criticalityEnabled
          ? (context) => inbound.criticalityOf((context as NestCallContext).store)
          : undefined,
      deadlineOf: (context, clock) => {
        // The request's deadline is read (and the clock with it) once per request, then cached.
        const fromCaller = inbound.enabled ? inbound.of((context as NestCallContext).store) : undefined;
        if (ownMs === undefined) return fromCaller;
        const own = clock.now() + ownMs;
        return fromCaller === undefined ? own : Math.min(fromCaller, own);
      },
      onExceeded: () => {
        if (exceeded.hasListeners) exceeded.emit({ service });
      },
    });
  }
}
