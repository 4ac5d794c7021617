/**
 * Durations follow the guide: a plain number means SECONDS (`timeout: 60`),
 * a string may carry a unit (`'250ms'`, `'90s'`, `'5m'`, `'1h'`, `'7d'`).
 */
export type Duration = number | string;

const UNIT_SECONDS: Record<string, number> = {
  ms: 0.001,
  s: 1,
  m: 60,
  h: 3600,
  d: 86400,
};

const DURATION_PATTERN = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/;

export const DURATION_HINT = "a number of seconds or a string such as '250ms', '90s', '5m', '1h', '7d'";

/** Parses a duration to seconds, or returns undefined when it is not one. */
export function tryParseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') {
    return Number.isFinite(value) && value >= 0 ? value : undefined;
  }
  if (typeof value !== 'string') return undefined;
  const match = DURATION_PATTERN.exec(value);
  if (!match) return undefined;
  const amount = Number(match[1]);
  const unit = match[2] ?? 's';
  return amount * UNIT_SECONDS[unit];
}

/** Parses a duration to seconds; throws a RangeError naming the bad value. */
export function toSeconds(value: Duration, what = 'duration'): number {
  const seconds = tryParseDuration(value);
  if (seconds === undefined) {
    throw new RangeError(`${what}: invalid duration ${JSON.stringify(value)} (use ${DURATION_HINT})`);
  }
  return seconds;
}

export function toMilliseconds(value: Duration, what = 'duration'): number {
  return Math.round(toSeconds(value, what) * 1000);
}
