/**
 * Arguments of a failed call, made safe to store as JSON and read back for a replay:
 * circular references, BigInt, Date, Buffer / typed arrays, Map, Set, Error, undefined
 * and class instances survive (class instances as plain data with their class name).
 * Tagged values are objects with a single "$type" key.
 */
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const TYPE = '$type';

export function serializeValue(value: unknown): Json {
  const seen = new Map<object, string>();
  const walk = (v: unknown, path: string): Json => {
    switch (typeof v) {
      case 'undefined':
        return { [TYPE]: 'undefined' };
      case 'bigint':
        return { [TYPE]: 'bigint', value: v.toString() };
      case 'number':
        return Number.isFinite(v) ? v : { [TYPE]: 'number', value: String(v) };
      case 'string':
      case 'boolean':
        return v;
      case 'function':
        return { [TYPE]: 'function', name: v.name };
      case 'symbol':
        return { [TYPE]: 'symbol', description: v.description ?? '' };
    }
    if (v === null) return null;
    const obj = v as object;
    const ref = seen.get(obj);
    if (ref !== undefined) return { [TYPE]: 'ref', path: ref };
    seen.set(obj, path);
    if (obj instanceof Date) return { [TYPE]: 'date', value: Number.isNaN(obj.getTime()) ? null : obj.toISOString() };
    if (Buffer.isBuffer(obj)) return { [TYPE]: 'buffer', base64: obj.toString('base64') };
    if (ArrayBuffer.isView(obj)) {
      const bytes = Buffer.from(obj.buffer, obj.byteOffset, obj.byteLength);
      return { [TYPE]: 'typedarray', kind: obj.constructor.name, base64: bytes.toString('base64') };
    }
    if (obj instanceof Map) {
      return {
        [TYPE]: 'map',
        entries: [...obj].map(([k, val], i) => [walk(k, `${path}.${i}.k`), walk(val, `${path}.${i}.v`)]),
      };
    }
    if (obj instanceof Set) return { [TYPE]: 'set', values: [...obj].map((x, i) => walk(x, `${path}.${i}`)) };
    if (obj instanceof Error) {
      return {
        [TYPE]: 'error',
        name: obj.name,
        message: obj.message,
        stack: obj.stack ?? null,
        code: (obj as { code?: Json }).code ?? null,
      };
    }
    if (Array.isArray(obj)) return obj.map((x, i) => walk(x, `${path}.${i}`));
    const out: { [key: string]: Json } = {};
    for (const [key, val] of Object.entries(obj)) out[key] = walk(val, `${path}.${key}`);
    const proto = Object.getPrototypeOf(obj);
    if (proto !== Object.prototype && proto !== null && proto?.constructor?.name) {
      return { [TYPE]: 'instance', className: proto.constructor.name, value: out };
    }
    if (TYPE in out) return { [TYPE]: 'object', value: out };
    return out;
  };
  return walk(value, '$');
}

/** Reads serializeValue's output back (class instances come back as plain objects). */
export function deserializeValue(json: unknown): unknown {
  const byPath = new Map<string, unknown>();
  const walk = (v: unknown, path: string): unknown => {
    if (v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) {
      const arr: unknown[] = [];
      byPath.set(path, arr);
      for (const [i, x] of v.entries()) arr.push(walk(x, `${path}.${i}`));
      return arr;
    }
    const o = v as Record<string, unknown>;
    switch (o[TYPE]) {
      case 'undefined':
        return undefined;
      case 'bigint':
        return BigInt(o.value as string);
      case 'number':
        return Number(o.value);
      case 'function':
      case 'symbol':
        return undefined;
      case 'ref':
        return byPath.get(o.path as string);
      case 'date': {
        const d = new Date(o.value === null ? Number.NaN : (o.value as string));
        byPath.set(path, d);
        return d;
      }
      case 'buffer': {
        const b = Buffer.from(o.base64 as string, 'base64');
        byPath.set(path, b);
        return b;
      }
      case 'typedarray': {
        const bytes = Buffer.from(o.base64 as string, 'base64');
        const Ctor = (globalThis as unknown as Record<string, new (b: ArrayBuffer) => unknown>)[o.kind as string];
        const copy = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
        const arr = Ctor ? new Ctor(copy) : bytes;
        byPath.set(path, arr);
        return arr;
      }
      case 'map': {
        const m = new Map();
        byPath.set(path, m);
        for (const [i, [k, val]] of (o.entries as [unknown, unknown][]).entries()) {
          m.set(walk(k, `${path}.${i}.k`), walk(val, `${path}.${i}.v`));
        }
        return m;
      }
      case 'set': {
        const s = new Set();
        byPath.set(path, s);
        for (const [i, x] of (o.values as unknown[]).entries()) s.add(walk(x, `${path}.${i}`));
        return s;
      }
      case 'error': {
        const e = new Error(o.message as string);
        e.name = o.name as string;
        if (o.stack) e.stack = o.stack as string;
        if (o.code !== null && o.code !== undefined) (e as { code?: unknown }).code = o.code;
        byPath.set(path, e);
        return e;
      }
      case 'instance':
      case 'object':
        return walkObject(o.value as Record<string, unknown>, path);
      default:
        return walkObject(o, path);
    }
  };
  const walkObject = (o: Record<string, unknown>, path: string) => {
    const out: Record<string, unknown> = {};
    byPath.set(path, out);
    for (const [k, val] of Object.entries(o)) out[k] = walk(val, `${path}.${k}`);
    return out;
  };
  return walk(json, '$');
}

/** An error, as a letter keeps it. */
export function describeError(error: unknown): {
  name: string;
  message: string;
  stack?: string;
  code?: string;
  status?: number;
} {
  if (error instanceof Error) {
    const e = error as Error & { code?: unknown; status?: unknown; statusCode?: unknown };
    const status =
      typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : undefined;
    return {
      name: e.name,
      message: e.message,
      stack: e.stack,
      ...(typeof e.code === 'string' ? { code: e.code } : {}),
      ...(status !== undefined ? { status } : {}),
    };
  }
  return { name: typeof error, message: String(error) };
}
