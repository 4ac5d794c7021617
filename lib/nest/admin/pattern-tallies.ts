import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { DescriptorStages } from '../descriptors/descriptor-stages.js';
import { TimeoutStageFactory } from '../pipeline/timeout-stage.js';

/** One service's counts for one pattern, by outcome: `{ started: 12, won: 3 }`. */
export interface PatternTally {
  service: string;
  pattern: string;
  counts: Record<string, number>;
}

/**
 * What the console shows of the patterns without a policy object of their own (timeouts,
 * fallbacks, hedges, coalescing, chaos): per service and pattern, the same outcomes their
 * counters count, since the application started. Bounded by the services and outcomes there are.
 */
@Injectable()
export class PatternTallies implements OnModuleDestroy {
  private readonly tallies = new Map<string, PatternTally>();
  private readonly stops: (() => void)[] = [];

  constructor(descriptors: DescriptorStages, timeouts: TimeoutStageFactory) {
    this.stops.push(
      descriptors.onEmitted(({ pattern, service, labels }) =>
        this.count(service, pattern, Object.values(labels).join(' ') || 'used'),
      ),
      timeouts.onTimedOut(({ service, per }) => this.count(service, 'timeout', `timed out (${per})`)),
    );
  }

  onModuleDestroy(): void {
    for (const stop of this.stops.splice(0)) stop();
  }

  /** Every service and pattern seen, sorted. */
  list(): PatternTally[] {
    return [...this.tallies.values()]
      .map((tally) => ({ ...tally, counts: { ...tally.counts } }))
      .sort((a, b) => a.service.localeCompare(b.service) || a.pattern.localeCompare(b.pattern));
  }

  private count(service: string, pattern: string, outcome: string): void {
    const key = `${service}\u0000${pattern}`;
    let tally = this.tallies.get(key);
    if (!tally) {
      tally = { service, pattern, counts: {} };
      this.tallies.set(key, tally);
    }
    tally.counts[outcome] = (tally.counts[outcome] ?? 0) + 1;
  }
}
