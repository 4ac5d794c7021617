function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
}

/** A header from a plain object, a Headers instance, or a Map-like with get(). */
function header(headers: unknown, name: string): unknown {
  const h = record(headers);
  if (!h) return undefined;
  if (typeof h.get === 'function') return (h.get as (n: string) => unknown).call(h, name);
  for (const key of Object.keys(h)) if (key.toLowerCase() === name) return h[key];
  return undefined;
}

/**
 * Parses a Retry-After value: delta-seconds ("120") or an HTTP-date. Returns seconds
 * from `nowMs`, at least 0; undefined when it is neither.
 */
export function parseRetryAfter(value: unknown, nowMs: number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (Array.isArray(value)) return parseRetryAfter(value[0], nowMs);
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, (date - nowMs) / 1000);
}

/**
 * The Retry-After an error carries, in seconds: our errors' `retryAfter`, or a
 * `retry-after` header on the error or its response (axios, fetch, got, Nest).
 */
export function retryAfterOf(error: unknown, nowMs: number): number | undefined {
  const e = record(error);
  if (!e) return undefined;
  if (e.retryAfter !== undefined) return parseRetryAfter(e.retryAfter, nowMs);
  const response = record(e.response);
  const value = header(e.headers, 'retry-after') ?? header(response?.headers, 'retry-after');
  return value === undefined ? undefined : parseRetryAfter(value, nowMs);
}
