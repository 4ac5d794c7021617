import { tryParseDuration } from '../core/duration.js';
import type { ConfigIssue } from '../core/errors.js';
import { suggest } from './format-issues.js';
import { presets } from './presets.js';
import type { ResilienceConfig } from './types.js';

type Raw = Record<string, unknown>;

const asRecord = (v: unknown): Raw | undefined =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Raw) : undefined;

/** Sections keyed by names the user chooses: a name there is never silently dropped. */
const NAMED_SECTIONS = ['tiers', 'services', 'rateLimiters'] as const;

/**
 * Settings that parse but would not do what they say (errors, on raw input):
 * - a name that JavaScript objects cannot hold as data (`__proto__`) is dropped by every
 *   parser downstream: refused, with its path;
 * - a limiter whose capacity (rate + burst) is below one call denies every call;
 * - `redis:` with neither url nor host would silently leave every store in memory.
 */
export function misleadingSettings(raw: unknown): ConfigIssue[] {
  const config = asRecord(raw) ?? {};
  const issues: ConfigIssue[] = [];
  const reserved = (section: Raw | undefined, path: string) => {
    if (section && Object.hasOwn(section, '__proto__')) {
      issues.push({
        path: `${path}.__proto__`,
        message: 'is a reserved name and cannot name an entry: choose another',
      });
    }
  };
  for (const name of NAMED_SECTIONS) reserved(asRecord(config[name]), name);
  reserved(asRecord(asRecord(config.deadLetter)?.queues), 'deadLetter.queues');

  const rates: [string, unknown][] = [['defaults.rate', asRecord(config.defaults)?.rate]];
  for (const [name, tier] of Object.entries(asRecord(config.tiers) ?? {}))
    rates.push([`tiers.${name}.rate`, asRecord(tier)?.rate]);
  for (const [name, service] of Object.entries(asRecord(config.services) ?? {})) {
    rates.push([`services.${name}.rate`, asRecord(service)?.rate]);
    rates.push([`services.${name}.rollout.rate`, asRecord(asRecord(service)?.rollout)?.rate]);
  }
  for (const [name, limiter] of Object.entries(asRecord(config.rateLimiters) ?? {}))
    rates.push([`rateLimiters.${name}`, limiter]);
  for (const [path, section] of rates) {
    const rate = asRecord(section)?.rate;
    const burst = asRecord(section)?.burst ?? 0;
    if (typeof rate === 'number' && rate > 0 && typeof burst === 'number' && rate + burst < 1) {
      const per = tryParseDuration(asRecord(section)?.per) ?? 1;
      issues.push({
        path: `${path}.rate`,
        message: `${rate} (with burst ${burst}) holds less than one call, so every call would be denied: for one call every ${+(per / rate).toFixed(3)}s write rate: 1, per: ${+(per / rate).toFixed(3)}`,
      });
    }
  }

  const redis = config.redis;
  if (redis !== undefined && redis !== null) {
    const r = asRecord(redis);
    const ways = r ? REDIS_CONNECTIONS.filter((keys) => keys.some((k) => r[k] !== undefined)) : [];
    if (r && ways.length === 0) {
      issues.push({
        path: 'redis',
        message:
          'has no connection (url, host, cluster, sentinels or client): every store would silently stay in memory; set one, or remove redis',
      });
    }
    if (ways.length > 1) {
      issues.push({
        path: 'redis',
        message: `names ${ways.length} ways to connect (${ways.map((keys) => keys.join('/')).join(', ')}): keep one`,
      });
    }
    if (r && r.sentinels !== undefined && r.name === undefined) {
      issues.push({ path: 'redis.name', message: 'is required with sentinels: the name of the master they watch' });
    }
  }
  return issues;
}

/** The ways to connect the module's Redis: exactly one is used. */
const REDIS_CONNECTIONS = [['url', 'host'], ['cluster'], ['sentinels'], ['client']];

/**
 * Warnings (errors with `strict`): a tier that nothing uses and whose name is one slip away
 * from a built-in tier (`tiers.critcal`) is almost always a typo that silently creates a
 * new tier while the intended one keeps its defaults.
 */
export function suspiciousTiers(config: ResilienceConfig): ConfigIssue[] {
  const builtIn = Object.keys(presets.tiers);
  const used = new Set<string>([config.defaultTier ?? 'standard']);
  for (const service of Object.values(config.services ?? {})) if (service.tier) used.add(service.tier);
  const issues: ConfigIssue[] = [];
  for (const name of Object.keys(config.tiers ?? {})) {
    if (builtIn.includes(name) || used.has(name)) continue;
    const meant = suggest(name, builtIn);
    if (meant) {
      issues.push({
        path: `tiers.${name}`,
        message: `creates a new tier that no service uses; did you mean "${meant}"? (the built-in "${meant}" keeps its defaults)`,
      });
    }
  }
  return issues;
}

/** A near-miss of the configuration key among ConfigService's top-level keys (`resillience:`). */
export function nearMissKey(key: string, keys: Iterable<string>): string | undefined {
  const candidates = [...keys].filter((k) => k !== key);
  for (const candidate of candidates) {
    if (suggest(candidate, [key]) === key) return candidate;
  }
  return undefined;
}
