/** Setting names whose values are secrets: shown as '[redacted]'. */
const SECRET_NAME = /password|secret|token|salt|credential|^keys$|privateKey|apiKey$/i;

/** A URL's password ('redis://user:pw@host') replaced. */
function redactUrl(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^@/\s]*@/i, '$1[redacted]@');
}

/**
 * A configuration as JSON an operator may see: secrets (Redis passwords, encryption keys,
 * tokens, the trace salt) redacted, passwords in URLs too; functions and class instances
 * (key functions, a Redis client) named, not serialized.
 */
export function redact(value: unknown, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return redactUrl(value);
  if (typeof value === 'function') return `[function ${value.name || 'anonymous'}]`;
  if (typeof value === 'bigint' || typeof value === 'symbol') return String(value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((item) => redact(item, seen));
  if (value instanceof RegExp) return String(value);
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return `[${value.constructor?.name ?? 'object'}]`;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] =
      SECRET_NAME.test(key) && item !== undefined && typeof item !== 'boolean' ? '[redacted]' : redact(item, seen);
  }
  return out;
}
