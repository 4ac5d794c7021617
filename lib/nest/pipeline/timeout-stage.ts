import { Inject, Injectable } from '@nestjs/common';
import { formatZodIssues } from '../../config/format-issues.js';
import { timeoutSchema } from '../../config/schema.js';
import type { Clock } from '../../core/clock.js';
import { ResilienceConfigError } from '../../core/errors.js';
import { type Event, EventSource } from '../../core/events.js';
import type { Stage } from '../../core/pipeline/stage.js';
import { timeoutStage } from '../../core/pipeline/timeout-stage.js';
import { ResilienceSettings } from '../resilience-settings.js';
import { RESILIENCE_CLOCK } from '../tokens.js';
import type { StageFactory, StagePlan } from './types.js';

/** The timeout of @Timeout, or of @Resilient's service when its settings turn one on. */
@Injectable()
export class TimeoutStageFactory implements StageFactory {
  readonly kind = 'timeout';
  private readonly timedOut = new EventSource<{ service: string; per: 'call' | 'attempt' }>();
  /** A call (or an attempt) of a service ran past its timeout. */
  readonly onTimedOut: Event<{ service: string; per: 'call' | 'attempt' }> = this.timedOut.event;

  constructor(
    private readonly settings: ResilienceSettings,
    @Inject(RESILIENCE_CLOCK) private readonly clock: Clock,
  ) {}

  create({ ref, service, tier, origin }: StagePlan): Stage | undefined {
    const { resilient } = ref.metadata;
    const declared = ref.metadata.timeout;
    if (!declared && !resilient) return undefined;
    // The decorator asks for a timeout: on, unless it says otherwise.
    const own = declared ? { enabled: true, ...declared.options } : resilient?.overrides?.timeout;
    let resolved = this.settings.resolve(service, { tier }).timeout;
    if (own !== undefined) {
      // A section written at the call site turns the timeout on (see LayeringHooks.sectionTurnsOn).
      const parsed = timeoutSchema.safeParse(own, { reportInput: true });
      if (!parsed.success) throw new ResilienceConfigError(formatZodIssues(parsed.error.issues, `${origin} timeout`));
      resolved = this.settings.resolve(service, { tier, timeout: parsed.data }).timeout;
    }
    if (!resolved.enabled) return undefined;
    if (resolved.timeout === undefined) {
      throw new ResilienceConfigError([
        { path: `${origin} timeout.timeout`, message: 'is required once the timeout is on (e.g. 5 or "500ms")' },
      ]);
    }
    const { per } = resolved;
    const timedOut = this.timedOut;
    return timeoutStage({
      timeout: resolved.timeout,
      per,
      clock: this.clock,
      onTimedOut: () => {
        if (timedOut.hasListeners) timedOut.emit({ service, per });
      },
    });
  }
}
