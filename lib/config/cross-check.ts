import { tryParseDuration } from '../core/duration.js';
import type { ConfigIssue } from '../core/errors.js';
import { misleadingSettings } from './misleading-settings.js';
import { presets } from './presets.js';

function entries(value: unknown): [string, Record<string, unknown>][] {
  if (!value || typeof value !== 'object') return [];
  return Object.entries(value).filter(
    (e): e is [string, Record<string, unknown>] => !!e[1] && typeof e[1] === 'object',
  );
}

/**
 * Checks between fields and sections, on raw input (so they run even when the schema
 * found other problems): tiers named by services and defaultTier must exist; a retry's
 * maxDelay must not be below its baseDelay.
 */
export function crossCheck(raw: unknown): ConfigIssue[] {
  const config = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const issues: ConfigIssue[] = [];
  const tiers = new Set([...Object.keys(presets.tiers), ...entries(config.tiers).map(([name]) => name)]);
  const known = [...tiers].map((t) => JSON.stringify(t)).join(', ');
  if (typeof config.defaultTier === 'string' && !tiers.has(config.defaultTier)) {
    issues.push({
      path: 'defaultTier',
      message: `unknown tier ${JSON.stringify(config.defaultTier)} (known: ${known})`,
    });
  }
  for (const [name, service] of entries(config.services)) {
    if (typeof service.tier === 'string' && !tiers.has(service.tier)) {
      issues.push({
        path: `services.${name}.tier`,
        message: `unknown tier ${JSON.stringify(service.tier)} (known: ${known})`,
      });
    }
  }
  const retries: [string, unknown][] = [['defaults.retry', (config.defaults as Record<string, unknown>)?.retry]];
  for (const [name, tier] of entries(config.tiers)) retries.push([`tiers.${name}.retry`, tier.retry]);
  for (const [name, service] of entries(config.services)) {
    retries.push([`services.${name}.retry`, service.retry]);
    retries.push([`services.${name}.rollout.retry`, (service.rollout as Record<string, unknown>)?.retry]);
  }
  for (const [path, retry] of retries) issues.push(...checkRetryDelays(retry, path));
  for (const [name, service] of entries(config.services)) {
    if (service.rollout && typeof service.rollout === 'object')
      issues.push(...checkRolloutSteps(service.rollout as Record<string, unknown>, `services.${name}.rollout`));
  }
  issues.push(...misleadingSettings(raw));
  return issues;
}

/** A rollout gives `percent` or `steps` (rising shares; `percent`, if given too, is the first). */
function checkRolloutSteps(rollout: Record<string, unknown>, path: string): ConfigIssue[] {
  const { percent, steps } = rollout;
  if (steps === undefined) {
    if (percent === undefined)
      return [{ path: `${path}.percent`, message: 'is required (or steps, for a progressive rollout)' }];
    const progressive = ['interval', 'analysis', 'onFailure'].filter((key) => rollout[key] !== undefined);
    return progressive.map((key) => ({
      path: `${path}.${key}`,
      message: 'applies to a progressive rollout: give steps too',
    }));
  }
  if (!Array.isArray(steps)) return [];
  const issues: ConfigIssue[] = [];
  steps.forEach((share, i) => {
    if (i > 0 && typeof share === 'number' && share <= (steps[i - 1] as number))
      issues.push({
        path: `${path}.steps[${i}]`,
        message: `must be above steps[${i - 1}] (${steps[i - 1]}): shares rise`,
      });
  });
  if (percent !== undefined && percent !== steps[0])
    issues.push({
      path: `${path}.percent`,
      message: `is ${percent} but steps start at ${steps[0]}: give one, or the same`,
    });
  return issues;
}

export function checkRetryDelays(retry: unknown, path: string): ConfigIssue[] {
  if (!retry || typeof retry !== 'object') return [];
  const { baseDelay, maxDelay } = retry as Record<string, unknown>;
  const base = tryParseDuration(baseDelay);
  const max = tryParseDuration(maxDelay);
  if (base === undefined || max === undefined || max >= base) return [];
  return [{ path: `${path}.maxDelay`, message: `must be >= baseDelay (${base}s), got ${max}s` }];
}
