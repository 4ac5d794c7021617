import { Injectable } from '@nestjs/common';
import { type Event, EventSource } from '../../core/events.js';
import { fallbackStage } from '../../core/pipeline/fallback-stage.js';
import type { Stage } from '../../core/pipeline/stage.js';
import type { StageFactory, StagePlan } from './types.js';

export interface FallbackUse {
  service: string;
  outcome: 'answered' | 'failed';
}

/** The fallback of @Fallback (functions have no place in configuration files: the decorator only). */
@Injectable()
export class FallbackStageFactory implements StageFactory {
  readonly kind = 'fallback';
  private readonly used = new EventSource<FallbackUse>();
  /** A fallback answered for a call, or failed itself. */
  readonly onFallback: Event<FallbackUse> = this.used.event;

  create({ ref, service }: StagePlan): Stage | undefined {
    const declared = ref.metadata.fallback?.options;
    if (!declared) return undefined;
    const { handler, handle } = declared;
    const value = 'value' in declared ? declared.value : undefined;
    const used = this.used;
    return fallbackStage({
      fallback: handler ?? (() => value),
      handle,
      onFallback: (outcome) => {
        if (used.hasListeners) used.emit({ service, outcome });
      },
    });
  }
}
