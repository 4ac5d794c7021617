import type { z } from 'zod';
import type { ConfigIssue } from '../core/errors.js';
import { describe, KNOWN_KEYS } from './schema.js';

export function joinPath(path: readonly PropertyKey[]): string {
  return path
    .map((part, i) => (typeof part === 'number' ? `[${part}]` : i === 0 ? String(part) : `.${String(part)}`))
    .join('');
}

/** Turns zod's issues into one line each: the path and what is wrong, with the value found. */
export function formatZodIssues(issues: readonly z.core.$ZodIssue[], basePath = ''): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of issues) {
    const path = [basePath, joinPath(issue.path)].filter(Boolean).join('.');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const hint = suggest(key);
        out.push({
          path: path ? `${path}.${key}` : key,
          message: `unknown key${hint ? ` (did you mean "${hint}"?)` : ''}`,
        });
      }
      continue;
    }
    out.push({ path, message: messageFor(issue) });
  }
  return out;
}

function messageFor(issue: z.core.$ZodIssue): string {
  const input = (issue as { input?: unknown }).input;
  const got = input === undefined ? '' : `, got ${describe(input)}`;
  switch (issue.code) {
    case 'invalid_type':
      if (input === undefined) return `is required (expected ${issue.expected})`;
      return `expected ${issue.expected === 'int' ? 'an integer' : issue.expected}${got}`;
    case 'too_small':
      if (issue.origin === 'string') return `must not be empty`;
      if (issue.origin === 'array') return `must have at least ${issue.minimum} item(s)`;
      return `must be ${issue.inclusive ? '>=' : '>'} ${issue.minimum}${got}`;
    case 'too_big':
      return `must be ${issue.inclusive ? '<=' : '<'} ${issue.maximum}${got}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}${got}`;
    default:
      return issue.message;
  }
}

/** The known key closest to a misspelt one (edit distance at most 2, or a case slip). */
export function suggest(key: string, candidates: Iterable<string> = KNOWN_KEYS): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const known of candidates) {
    if (known.toLowerCase() === key.toLowerCase()) return known;
    const d = editDistance(key, known, bestDistance);
    if (d < bestDistance) {
      bestDistance = d;
      best = known;
    }
  }
  return best;
}

function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) >= limit) return limit;
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
    }
    previous = current;
  }
  return previous[b.length];
}
