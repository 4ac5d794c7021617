import type { Series } from './prometheus.js';

/** One outage as the breaker lived it: from its first opening to its closing. */
export interface Episode {
  start: number;
  end: number;
  opens: number;
  reopens: number;
}

/** A breaker's transitions per minute, grouped into episodes (a gap of `gapMinutes` quiet minutes ends one). */
export function episodesOf(transitions: Series[], gapMinutes = 5): Episode[] {
  const minutes = new Map<number, { opens: number; reopens: number; closes: number }>();
  for (const series of transitions) {
    const { from, to } = series.labels;
    for (const [t, value] of series.points) {
      const count = Math.round(value);
      if (count <= 0) continue;
      const m = minutes.get(t) ?? { opens: 0, reopens: 0, closes: 0 };
      if (to === 'open' && from === 'closed') m.opens += count;
      if (to === 'open' && from === 'half_open') m.reopens += count;
      if (to === 'closed') m.closes += count;
      minutes.set(t, m);
    }
  }
  const episodes: Episode[] = [];
  let current: Episode | undefined;
  for (const t of [...minutes.keys()].sort((a, b) => a - b)) {
    const m = minutes.get(t) as { opens: number; reopens: number; closes: number };
    if (current && t - current.end > gapMinutes * 60) {
      episodes.push(current);
      current = undefined;
    }
    if (!current) {
      if (m.opens === 0 && m.reopens === 0) continue;
      current = { start: t, end: t, opens: 0, reopens: 0 };
    }
    current.opens += m.opens;
    current.reopens += m.reopens;
    current.end = t;
  }
  if (current) episodes.push(current);
  return episodes;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
