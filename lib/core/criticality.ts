/**
 * How much a call matters when there is not room for all (Google SRE's criticalities), most
 * important first. Unclassed calls are `critical`.
 */
export const CRITICALITIES = ['critical_plus', 'critical', 'sheddable_plus', 'sheddable'] as const;
export type Criticality = (typeof CRITICALITIES)[number];

/** The class of a call with none. */
export const DEFAULT_CRITICALITY: Criticality = 'critical';

/** 0 (critical_plus) to 3 (sheddable): lower is served first. */
export function rankOf(criticality: Criticality | undefined): number {
  switch (criticality) {
    case 'critical_plus':
      return 0;
    case 'sheddable_plus':
      return 2;
    case 'sheddable':
      return 3;
    default:
      return 1;
  }
}

/**
 * A criticality from a header or a setting: `critical_plus`, `CRITICAL_PLUS` (gRPC's
 * spelling), `critical-plus`; anything else (a hostile value, a list) is undefined.
 */
export function parseCriticality(value: unknown): Criticality | undefined {
  if (typeof value !== 'string' || value.length > 20) return undefined;
  const normal = value.trim().toLowerCase().replace('-', '_');
  return (CRITICALITIES as readonly string[]).includes(normal) ? (normal as Criticality) : undefined;
}
