import type { CircuitBreakerSnapshot } from './types.js';
import { CountWindow, type OutcomeWindow, type TimeWindow } from './window.js';

/** What is wrong with a snapshot for a breaker with this window (empty: nothing). */
export function validateSnapshot(s: CircuitBreakerSnapshot, window: OutcomeWindow | undefined): string[] {
  const problems: string[] = [];
  if (!s || typeof s !== 'object') return ['not an object'];
  if (s.version !== 1) problems.push(`version must be 1, got ${s.version}`);
  if (!['closed', 'open', 'half_open'].includes(s.state)) problems.push(`unknown state ${JSON.stringify(s.state)}`);
  for (const key of ['consecutiveFailures', 'consecutiveSuccesses', 'reopens'] as const) {
    if (!Number.isInteger(s[key]) || s[key] < 0) problems.push(`${key} must be an integer >= 0`);
  }
  if (typeof s.openUntil !== 'number') problems.push('openUntil must be a number');
  if (s.window && window) {
    const expected = window instanceof CountWindow ? 'count' : 'time';
    const size = (window as CountWindow | TimeWindow).size;
    if (s.window.type !== expected || s.window.size !== size) {
      problems.push(`window is ${s.window.type}/${s.window.size}, this breaker has ${expected}/${size}`);
    }
  }
  return problems;
}
