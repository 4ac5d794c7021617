import type { ResilienceConfig } from '../../config/types.js';
import type { ConfigIssue } from '../../core/errors.js';
import { optionsSignature } from '../services/named-registry.js';

/**
 * Sections a reload cannot change: connections, exporters, routes and request reading are
 * set up once at bootstrap (and chaos experiments change at run time through their own API).
 * A reload that changes one is refused, naming it: restart the application for those.
 */
export const FROZEN_SECTIONS = [
  'environment',
  'redis',
  'deadLetter',
  'http',
  'metrics',
  'trace',
  'tracing',
  'deadline',
  'criticality',
  'chaos',
  'reload',
] as const satisfies readonly (keyof ResilienceConfig)[];

/** One issue per frozen section the new configuration changes. */
export function frozenSectionIssues(current: ResilienceConfig, next: ResilienceConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const section of FROZEN_SECTIONS) {
    if (optionsSignature(current[section]) !== optionsSignature(next[section]))
      issues.push({
        path: section,
        message: 'changes only with a restart: a reload cannot change it (keep it as it is)',
      });
  }
  return issues;
}

/**
 * A new configuration with the frozen sections it leaves out taken from the one in force (a
 * file of patterns alone keeps the `redis` of the bootstrap); a section it gives is compared.
 */
export function inheritFrozen(raw: unknown, current: ResilienceConfig): unknown {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return raw;
  const next: Record<string, unknown> = { ...(raw as Record<string, unknown>) };
  for (const section of FROZEN_SECTIONS) {
    if (next[section] === undefined && current[section] !== undefined) next[section] = current[section];
  }
  return next;
}
