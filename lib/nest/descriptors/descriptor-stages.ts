import { Inject, Injectable, Optional } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { Attributes } from '@opentelemetry/api';
import { ROLLOUT_SUFFIX } from '../../config/resolve.js';
import type { Clock } from '../../core/clock.js';
import { ResilienceConfigError } from '../../core/errors.js';
import { type Event, EventSource } from '../../core/events.js';
import { orderWith } from '../../core/pipeline/order.js';
import type { Stage } from '../../core/pipeline/stage.js';
import type { CounterInstrument } from '../metrics/metrics-backend.js';
import type { ResilienceMetrics } from '../metrics/resilience-metrics.js';
import type { StagePlan } from '../pipeline/types.js';
import { ResilienceSettings } from '../resilience-settings.js';
import { RESILIENCE_CLOCK, RESILIENCE_METRICS, RESILIENCE_TRACING } from '../tokens.js';
import type { OtelTracing } from '../tracing/otel-tracing.js';
import { ExtraAttemptBudgets } from './extra-attempt-budgets.js';
import { definedPatterns, type PatternDescriptor, parsePatternOptions } from './pattern-descriptor.js';

type Sections = Record<string, Record<string, unknown> | undefined> | undefined;

/**
 * The Nest side of every pattern defined with definePattern: checks the `patterns` sections
 * of the configuration at bootstrap (an unknown name or a bad field is an error naming its
 * path), builds each method's stages from its decorators and those sections, and turns each
 * event of a stage into its counters and its span event.
 */
@Injectable()
export class DescriptorStages {
  /** The core's order with the defined patterns' kinds in their places. */
  readonly order: readonly string[];
  private readonly patterns: readonly PatternDescriptor[];
  private readonly counters = new Map<string, CounterInstrument<string>>();
  private readonly emitted = new EventSource<{ pattern: string; service: string; labels: Record<string, string> }>();
  /** Every event a defined pattern emits, with its counters' labels (the console tallies them). */
  readonly onEmitted: Event<{ pattern: string; service: string; labels: Record<string, string> }> = this.emitted.event;

  constructor(
    private readonly settings: ResilienceSettings,
    private readonly budgets: ExtraAttemptBudgets,
    private readonly moduleRef: ModuleRef,
    @Inject(RESILIENCE_CLOCK) private readonly clock: Clock,
    @Optional() @Inject(RESILIENCE_METRICS) private readonly metrics?: ResilienceMetrics | null,
    @Optional() @Inject(RESILIENCE_TRACING) private readonly tracing?: OtelTracing | null,
  ) {
    this.patterns = definedPatterns();
    this.order = orderWith(this.patterns);
    this.checkSections();
    // A reload's `patterns` sections are checked as at bootstrap (the pipelines are rebuilt after).
    settings.participate({
      order: 15,
      apply: () => {
        this.checkSections();
        return { changed: [], rollback: () => undefined };
      },
    });
  }

  /** The stages of `plan`'s method, one per defined pattern its decorators or its service's settings turn on. */
  create(plan: StagePlan): Stage[] {
    const stages: Stage[] = [];
    let resolved: ReturnType<ResilienceSettings['resolve']> | undefined;
    for (const descriptor of this.patterns) {
      const options = this.optionsOf(descriptor, plan) ?? (descriptor.everyMethod ? {} : undefined);
      if (!options) continue;
      // Resolved once per method, and only for a method some pattern applies to.
      resolved ??= this.settings.resolve(plan.service, plan.tier ? { tier: plan.tier } : undefined);
      const stage = descriptor.stage({
        options,
        service: plan.service,
        base: plan.base,
        arm: plan.suffix === ROLLOUT_SUFFIX ? 'rollout' : 'stable',
        get: (type) => this.moduleRef.get(type, { strict: false }),
        origin: plan.origin,
        clock: this.clock,
        resolved,
        emit: this.emitter(descriptor, plan.service),
        budget: (settings) => this.budgets.of(plan.service, settings, `@${descriptor.name} of ${plan.origin}`),
      });
      if (stage) stages.push(stage);
    }
    return stages;
  }

  /**
   * The decorator's options over the sections of the layers (defaults, the tier, the service,
   * its rollout on the rollout's arm), each validated; none when no layer names the pattern.
   */
  private optionsOf(descriptor: PatternDescriptor, plan: StagePlan): object | undefined {
    const { name } = descriptor;
    const config = this.settings.config;
    const service = config.services?.[plan.base];
    const tier = service?.tier ?? plan.tier ?? this.settings.defaultTier;
    const layers: [unknown, string][] = [
      [config.defaults?.patterns?.[name], `defaults.patterns.${name}`],
      [config.tiers?.[tier]?.patterns?.[name], `tiers.${tier}.patterns.${name}`],
      [service?.patterns?.[name], `services.${plan.base}.patterns.${name}`],
    ];
    if (plan.suffix === ROLLOUT_SUFFIX) {
      layers.push([service?.rollout?.patterns?.[name], `services.${plan.base}.rollout.patterns.${name}`]);
    }
    const own = plan.ref.metadata.patterns?.[name];
    if (!own && layers.every(([section]) => section === undefined)) return undefined;
    let merged: object = {};
    for (const [section, path] of layers) {
      if (section !== undefined) merged = { ...merged, ...parsePatternOptions(descriptor, section, path) };
    }
    return own ? { ...merged, ...own } : merged;
  }

  /** Every `patterns` section names a defined pattern and passes its schema. */
  private checkSections(): void {
    const config = this.settings.config;
    const known = new Map(this.patterns.map((p) => [p.name, p]));
    const check = (sections: Sections, path: string) => {
      for (const [name, section] of Object.entries(sections ?? {})) {
        const descriptor = known.get(name);
        if (!descriptor) {
          throw new ResilienceConfigError([
            {
              path: `${path}.${name}`,
              message: `names no pattern: the defined ones are ${[...known.keys()].join(', ') || 'none'}`,
            },
          ]);
        }
        parsePatternOptions(descriptor, section, `${path}.${name}`);
      }
    };
    check(config.defaults?.patterns, 'defaults.patterns');
    for (const [tier, section] of Object.entries(config.tiers ?? {})) check(section.patterns, `tiers.${tier}.patterns`);
    for (const [service, section] of Object.entries(config.services ?? {})) {
      check(section.patterns, `services.${service}.patterns`);
      check(section.rollout?.patterns, `services.${service}.rollout.patterns`);
    }
  }

  /** One function per stage: its events become counter increments and span events. */
  private emitter(descriptor: PatternDescriptor, service: string): (event: object) => void {
    const metrics = this.metrics;
    const counters = (descriptor.metrics ?? []).map((spec) => ({ spec, counter: metrics && this.counter(spec) }));
    const tracing = this.tracing;
    const spanEvent = descriptor.spanEvent;
    const listened = this.emitted;
    const labelNames = [...new Set((descriptor.metrics ?? []).flatMap((spec) => spec.labels))];
    return (event) => {
      const fields = event as Record<string, unknown>;
      for (const { spec, counter } of counters) {
        if (!counter) continue;
        const labels: Record<string, string> = { service };
        for (const label of spec.labels) labels[label] = String(fields[label]);
        counter.inc(labels);
      }
      if (listened.hasListeners) {
        const labels: Record<string, string> = {};
        for (const label of labelNames) labels[label] = String(fields[label]);
        listened.emit({ pattern: descriptor.name, service, labels });
      }
      if (tracing && spanEvent) {
        const attributes: Attributes = { 'resilience.service': service };
        for (const [key, value] of Object.entries(fields)) {
          if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
            attributes[`resilience.${descriptor.name}.${key}`] = value;
          }
        }
        tracing.event(spanEvent, attributes);
      }
    };
  }

  private counter(spec: { name: string; help: string; labels: readonly string[] }): CounterInstrument<string> {
    let counter = this.counters.get(spec.name);
    if (!counter) {
      const metrics = this.metrics as ResilienceMetrics;
      counter = metrics.backend.counter({
        name: `${metrics.prefix}${spec.name}`,
        help: spec.help,
        unit: '{call}',
        labelNames: ['service', ...spec.labels],
      });
      this.counters.set(spec.name, counter);
    }
    return counter;
  }
}
