import { z } from 'zod';
import { duration, strict } from '../schema-parts.js';

// The timeout's settings: its section of the configuration schema (the schema adds `preset`
// and `why`), its presets, and what the base layer fills. One entry of the pattern table
// (./index.ts).

/**
 * Timeout settings: how long a call (or each attempt) may take before it fails with
 * TimeoutError and its operation's signal aborts. Off unless a layer sets it (or @Timeout).
 */
const fields = {
  /** Seconds, or a string with a unit ('250ms', '5s'). */
  timeout: duration({ positive: true }),
  /** 'call' (default): the whole call, retries and their waits included; 'attempt': each attempt. */
  per: z.enum(['call', 'attempt']),
  /** A timeout section turns the timeout on; false turns it off for the layers below. */
  enabled: z.boolean(),
};

/** The section as a user writes it, without `preset`: what every preset must be. */
const section = strict(fields).partial();

/** Timeouts by how long the dependency may take (ours; the guide has none). */
const presets = {
  /** A cache, a lookup: an answer in a second or none. */
  fast: { timeout: 1 },
  /** A typical HTTP API. */
  standard: { timeout: 10 },
  /** Reports, exports, batch endpoints. */
  slow: { timeout: 60 },
  /** Each attempt of a retried call: the retries get the rest of the time. */
  attempt: { timeout: 2, per: 'attempt' },
} as const satisfies Record<string, z.input<typeof section>>;

export const timeoutPattern = {
  /** The key of the pattern's section in a tier, a service, a call site and the metrics. */
  key: 'timeout' as const,
  fields,
  presets,
  /** Off unless a layer turns it on: an upgrade never starts failing calls nobody bounded. */
  base: { per: 'call', enabled: false } satisfies z.input<typeof section>,
  /** A `timeout` section the application writes turns it on, unless it says `enabled: false`. */
  sectionTurnsOn: true,
};
