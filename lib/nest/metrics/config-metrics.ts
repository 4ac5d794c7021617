import type { CounterInstrument, MetricsBackend } from './metrics-backend.js';

/** Something that tells the configuration version in force at scrape time (one per application). */
export type VersionSource = () => number;

/**
 * The configuration's metrics: reloads by result (applied, unchanged, invalid) and the version
 * in force (1 at bootstrap, one more per applied reload), so a dashboard shows when each
 * replica took which version.
 */
export class ConfigMetrics {
  readonly reloads: CounterInstrument<'result'>;
  /** Progressive rollouts' judgments that moved something: advanced, promoted, rolled_back, held. */
  readonly rolloutDecisions: CounterInstrument<'service' | 'decision'>;
  private readonly sources: Set<VersionSource>;

  constructor(backend: MetricsBackend, prefix: string) {
    const name = (base: string) => `${prefix}${base}`;
    this.reloads = backend.counter({
      name: name('resilience_config_reloads_total'),
      help: 'Configuration reloads, by result (applied, unchanged, invalid: refused, nothing changed)',
      unit: '{reload}',
      labelNames: ['result'],
    });
    this.rolloutDecisions = backend.counter({
      name: name('rollout_decisions_total'),
      help: 'Judgments of progressive rollouts that moved them: advanced, promoted, rolled_back, held',
      unit: '{decision}',
      labelNames: ['service', 'decision'],
    });
    this.sources = backend.gauge<VersionSource>(
      {
        name: name('resilience_config_version'),
        help: 'The configuration version in force (1 at bootstrap, one more per applied reload)',
        unit: '{version}',
        labelNames: [],
      },
      (sources) => [...sources].map((source) => [{}, source()] as [Record<string, string>, number]),
    );
  }

  /** Reads the version from `source` at every scrape until the returned function is called. */
  add(source: VersionSource): () => void {
    this.sources.add(source);
    return () => this.sources.delete(source);
  }
}
