function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Layers plain objects left to right: later defined values win, nested plain objects
 * merge, arrays and functions are replaced whole. Inputs are never mutated.
 */
export function mergeLayers<T extends object>(...layers: ReadonlyArray<object | undefined>): T {
  const out: Record<string, unknown> = {};
  for (const layer of layers) {
    if (!layer) continue;
    for (const [key, value] of Object.entries(layer)) {
      if (value === undefined) continue;
      const existing = out[key];
      out[key] = isPlainObject(value) && isPlainObject(existing) ? mergeLayers(existing, value) : cloneValue(value);
    }
  }
  return out as T;
}

function cloneValue(value: unknown): unknown {
  if (isPlainObject(value)) return mergeLayers(value);
  if (Array.isArray(value)) return [...value];
  return value;
}
