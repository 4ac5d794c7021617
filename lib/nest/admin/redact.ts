/** Setting names whose values are secrets: shown as '[redacted]'. */
const SECRET_NAME = /password|secret|token|salt|credential|^keys$|privateKey|apiKey$/i;

/** Query parameters that carry secrets ('?password=...', '?auth=...'). */
const SECRET_PARAM = /pass|secret|token|auth|key|credential/i;

/**
 * A URL's secrets replaced: its password (the last '@' ends it: 'redis://:pa@ss@host' has the
 * password 'pa@ss') and the values of query parameters that carry secrets. A string that is
 * not a URL is returned as it is.
 */
function redactUrl(value: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return value;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    // Not parsable as a URL: whatever sits between '://' and the last '@' may be credentials.
    return value.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/]*@/i, '$1[redacted]@');
  }
  let changed = false;
  if (url.password) {
    url.password = 'redacted';
    changed = true;
  }
  for (const key of [...url.searchParams.keys()]) {
    if (SECRET_PARAM.test(key)) {
      url.searchParams.set(key, 'redacted');
      changed = true;
    }
  }
  return changed
    ? url
        .toString()
        .replace(/redacted/g, '[redacted]')
        .replace(/%5Bredacted%5D/gi, '[redacted]')
    : value;
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
