import type { NamedLayer } from './layer-stack.js';
import { PATTERN_NAMES, type PatternName } from './patterns/index.js';
import { ResilienceConfigResolver, ROLLOUT_SUFFIX } from './resolve.js';

/** One effective setting, the layer that set it, and that layer's `why` note. */
export interface ExplainedSetting {
  pattern: PatternName;
  field: string;
  value: unknown;
  source: string;
  why?: string;
}

export interface Explanation {
  service: string;
  tier: string;
  environment?: string;
  /** False when the service has no entry in `services` (its tier's settings apply). */
  configured: boolean;
  settings: ExplainedSetting[];
  /** The rollout arm (`services.<name>.rollout`), when there is one. */
  rollout?: { percent: number; settings: ExplainedSetting[] };
}

const PATTERNS: readonly PatternName[] = PATTERN_NAMES;

/**
 * Where each effective setting of a service comes from: its value as the module resolves
 * it, and the highest layer that sets that field (the same layers, in the same order, that
 * the resolver merges). `raw` is a configuration as the module takes it.
 */
export function explainService(raw: unknown, service: string): Explanation {
  const resolver = ResilienceConfigResolver.from(raw);
  const resolved = resolver.resolve(service);
  const tier = resolver.tierOf(service);
  const explain = (name: string, arm: boolean): ExplainedSetting[] => {
    const patterns = arm ? resolver.resolve(`${name}${ROLLOUT_SUFFIX}`) : resolved;
    const layers = resolver.layersOf(service, tier, resolver.sectionsOf(service, { arm }));
    return PATTERNS.flatMap((pattern) =>
      Object.entries(patterns[pattern] as object).map(([field, value]) => ({
        pattern,
        field,
        value,
        ...sourceOf(layers[pattern], field, service),
      })),
    );
  };
  const explanation: Explanation = {
    service,
    tier,
    environment: resolver.environment,
    configured: resolver.serviceNames().includes(service),
    settings: explain(service, false),
  };
  if (resolved.rollout) explanation.rollout = { percent: resolved.rollout.percent, settings: explain(service, true) };
  return explanation;
}

/** The highest layer that sets `field`; a few fields come from no layer (named in `source`). */
function sourceOf(layers: NamedLayer[], field: string, service: string): { source: string; why?: string } {
  for (let i = layers.length - 1; i >= 0; i--) {
    const settings = layers[i].settings as Record<string, unknown> | undefined;
    if (settings?.[field] !== undefined) return { source: layers[i].source, why: layers[i].why };
  }
  if (field === 'queue') return { source: `the service's name (${service})` };
  return { source: 'default (no layer sets it)' };
}

/** The explanation as text: one line per setting, aligned, with the `why` notes. */
export function formatExplanation(e: Explanation): string {
  const head = `${e.service}: tier ${e.tier}, environment ${e.environment ?? 'none (no profile)'}${e.configured ? '' : ' (no entry in services: its tier applies)'}`;
  const lines = [head, ...formatSettings(e.settings)];
  if (e.rollout) lines.push('', `rollout arm (${e.rollout.percent}% of calls):`, ...formatSettings(e.rollout.settings));
  return lines.join('\n');
}

function formatSettings(settings: ExplainedSetting[]): string[] {
  const lines: string[] = [];
  // Aligned, except past a long value (a list of error names), which would push every line right.
  const width = Math.min(40, Math.max(...settings.map((s) => `${s.field}: ${show(s.value)}`.length)));
  let pattern = '';
  for (const s of settings) {
    if (s.pattern !== pattern) {
      pattern = s.pattern;
      lines.push(`  ${pattern}:`);
    }
    const setting = `${s.field}: ${show(s.value)}`.padEnd(width);
    lines.push(`    ${setting}  <- ${s.source}${s.why ? `  why: ${s.why}` : ''}`);
  }
  return lines;
}

function show(value: unknown): string {
  if (typeof value === 'function') return '[function]';
  return JSON.stringify(value) ?? String(value);
}
