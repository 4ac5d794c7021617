import type { ConfigIssue } from '../../core/errors.js';

/** What a reload did: applied (a new version), unchanged (the same settings), or refused (every problem, with its path). */
export interface ReloadResult {
  result: 'applied' | 'unchanged' | 'invalid';
  /** The version in force after it (the first configuration is 1). */
  version: number;
  /** Why it was refused (empty when applied). */
  issues: ConfigIssue[];
  /** Pre-deployment warnings of the new configuration (not refusals unless `strict`). */
  warnings: ConfigIssue[];
  /** What it changed: `circuit breaker "payments"`, `pipelines (12)`... */
  changed: string[];
  /** Where it came from: 'code', 'configService', a file path, 'fleet'. */
  source: string;
}

/**
 * One step of applying a reload: done in order, each right after the one before; if a later
 * step throws, the earlier ones are rolled back in reverse order and nothing has changed.
 */
export interface ReloadStep {
  /** What this step changes (for the result and the log); none: nothing. */
  readonly changed: string[];
  rollback(): void;
  /** After every step succeeded: lets go of what was replaced. */
  finish?(): void;
}

/** A part of the module whose state follows the configuration (a registry, the pipelines). */
export interface ReloadParticipant {
  /** Lower runs first: registries (10) before the pipelines built on them (20). */
  readonly order: number;
  /** Applies the configuration now in force; throws (a ResilienceConfigError names the path) to refuse it. */
  apply(): ReloadStep;
}
