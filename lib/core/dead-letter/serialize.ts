import { errorCodeOf } from '../error-matchers.js';

/**
 * Arguments of a failed call, made safe to store as JSON and read back for a replay:
 * circular references, BigInt, Date, Buffer / typed arrays, Map, Set, Error, undefined
 * and class instances survive (class instances as plain data with their class name).
 * Tagged values are objects with a single "$type" key.
 */
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const TYPE = '$type';

/** Typed arrays a stored letter may name: a stored name never reaches any other constructor. */
const TYPED_ARRAYS: Record<string, new (buffer: ArrayBuffer) => unknown> = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
  DataView,
};

/**
 * Sets a property as data: an own "__proto__" key stays a key and never sets a prototype.
 * Plain assignment for every other key (defineProperty is the slow path).
 */
function define(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/** Arguments larger than a byte budget: stopped before the whole copy is made. */
export class ValueTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`value is larger than ${limit} bytes`);
  }
}

/** A stored value that is not what serializeValue writes. */
export class MalformedValueError extends Error {}

/** How deep a value is followed: deeper parts are replaced by a marker (never a stack overflow). */
export const MAX_DEPTH = 64;

/** Arguments as stored, and what had to be left out of them (empty: all of it). */
export interface SerializedArguments {
  value: Json;
  /** Why parts were replaced by `{ "$type": "omitted", "reason" }` markers (at most 10 reasons). */
  omitted: string[];
}

/**
 * Arguments of a failed call as a letter stores them; never throws. What cannot be read or
 * kept is replaced by a marker `{ "$type": "omitted", "reason" }` and named in `omitted`:
 * a getter or a Proxy trap that throws, a part deeper than `maxDepth`, a value past the
 * `maxBytes` budget (a 64 MiB Buffer is never copied). A letter must never be lost to its
 * arguments: the failed call it records is what matters.
 */
export function serializeArguments(
  value: unknown,
  { maxBytes = Number.POSITIVE_INFINITY, maxDepth = MAX_DEPTH }: { maxBytes?: number; maxDepth?: number } = {},
): SerializedArguments {
  const omitted = new Set<string>();
  const json = walkValue(value, maxBytes, maxDepth, (reason) => {
    if (omitted.size < 10) omitted.add(reason);
  });
  return { value: json, omitted: [...omitted] };
}

/**
 * `maxBytes` bounds the estimated size of the output: a 64 MiB Buffer is refused before
 * its base64 copy exists (ValueTooLargeError). Parts that cannot be read, or are deeper
 * than MAX_DEPTH, are replaced by omitted markers (see serializeArguments, which never throws).
 */
export function serializeValue(value: unknown, maxBytes = Number.POSITIVE_INFINITY): Json {
  return walkValue(value, maxBytes, MAX_DEPTH, undefined);
}

const message = (error: unknown) => {
  try {
    return error instanceof Error ? error.message : String(error);
  } catch {
    return 'unknown error';
  }
};

/** `omit` set: over-budget parts are markers too; unset: over budget throws ValueTooLargeError. */
function walkValue(value: unknown, maxBytes: number, maxDepth: number, omit?: (reason: string) => void): Json {
  const seen = new Map<object, string>();
  let budget = maxBytes;
  const overBudget = `over the size budget of ${maxBytes} bytes`;
  const marker = (reason: string): Json => {
    omit?.(reason);
    return { [TYPE]: 'omitted', reason };
  };
  /** Takes `bytes` of the budget; false (lenient) when they are not there. */
  const spend = (bytes: number): boolean => {
    if (budget - bytes >= 0) {
      budget -= bytes;
      return true;
    }
    if (!omit) throw new ValueTooLargeError(maxBytes);
    budget = -1;
    return false;
  };
  const walk = (v: unknown, path: string, depth: number): Json => {
    if (!spend(typeof v === 'string' ? v.length + 2 : 8)) return marker(overBudget);
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
        return { [TYPE]: 'function', name: safeName(v) };
      case 'symbol':
        return { [TYPE]: 'symbol', description: v.description ?? '' };
    }
    if (v === null) return null;
    if (depth > maxDepth) return marker(`nested deeper than ${maxDepth} levels`);
    if (v instanceof Unreadable) return marker(v.reason);
    const obj = v as object;
    const ref = seen.get(obj);
    if (ref !== undefined) return { [TYPE]: 'ref', path: ref };
    seen.set(obj, path);
    try {
      return walkObject(obj, path, depth);
    } catch (error) {
      if (error instanceof ValueTooLargeError) throw error;
      // A Proxy trap, an exotic object: this part is left out, the letter is kept.
      return marker(`a value could not be read (${message(error)})`);
    }
  };
  const walkObject = (obj: object, path: string, depth: number): Json => {
    if (obj instanceof Date) return { [TYPE]: 'date', value: Number.isNaN(obj.getTime()) ? null : obj.toISOString() };
    if (Buffer.isBuffer(obj)) {
      if (!spend(Math.ceil(obj.length / 3) * 4)) return marker(`a Buffer of ${obj.length} bytes is ${overBudget}`);
      return { [TYPE]: 'buffer', base64: obj.toString('base64') };
    }
    if (ArrayBuffer.isView(obj)) {
      if (!spend(Math.ceil(obj.byteLength / 3) * 4))
        return marker(`a ${obj.constructor.name} of ${obj.byteLength} bytes is ${overBudget}`);
      const bytes = Buffer.from(obj.buffer, obj.byteOffset, obj.byteLength);
      return { [TYPE]: 'typedarray', kind: obj.constructor.name, base64: bytes.toString('base64') };
    }
    if (obj instanceof Map) {
      return {
        [TYPE]: 'map',
        entries: [...obj].map(([k, val], i) => [
          walk(k, `${path}.${i}.k`, depth + 1),
          walk(val, `${path}.${i}.v`, depth + 1),
        ]),
      };
    }
    if (obj instanceof Set)
      return { [TYPE]: 'set', values: [...obj].map((x, i) => walk(x, `${path}.${i}`, depth + 1)) };
    if (obj instanceof Error) {
      const e = describeError(obj);
      return { [TYPE]: 'error', name: e.name, message: e.message, stack: e.stack ?? null, code: e.code ?? null };
    }
    if (Array.isArray(obj)) {
      const out: Json[] = [];
      for (let i = 0; i < obj.length; i++) {
        if (budget < 0) {
          out.push(marker(`${obj.length - i} more items ${overBudget}`));
          break;
        }
        out.push(walk(readKey(obj, i), `${path}.${i}`, depth + 1));
      }
      return out;
    }
    const out: { [key: string]: Json } = {};
    for (const key of Object.keys(obj)) {
      if (budget < 0 || !spend(key.length + 3)) break;
      define(out, key, walk(readKey(obj, key), `${path}.${key}`, depth + 1));
    }
    const proto = Object.getPrototypeOf(obj);
    const className = proto !== Object.prototype && proto !== null ? safeName(proto.constructor) : '';
    if (className) return { [TYPE]: 'instance', className, value: out };
    if (Object.hasOwn(out, TYPE)) return { [TYPE]: 'object', value: out };
    return out;
  };
  /** A property, or an omitted marker when reading it throws (a getter, a Proxy's get trap). */
  const readKey = (obj: object, key: string | number): unknown => {
    try {
      return (obj as Record<string | number, unknown>)[key];
    } catch (error) {
      return new Unreadable(`reading ${JSON.stringify(String(key))} threw (${message(error)})`);
    }
  };
  const top = walk(value, '$', 0);
  return top;
}

/** A property whose read threw: stands in for its value until the walk turns it into a marker. */
class Unreadable {
  constructor(readonly reason: string) {}
}

function safeName(value: unknown): string {
  try {
    const name = (value as { name?: unknown } | null | undefined)?.name;
    return typeof name === 'string' ? name : '';
  } catch {
    return '';
  }
}

function expect(ok: boolean, what: string): void {
  if (!ok) throw new MalformedValueError(`stored value: ${what}`);
}

/**
 * Reads serializeValue's output back (class instances come back as plain objects). The
 * input is stored data, possibly forged: nothing in it chooses a constructor beyond the
 * typed arrays above, sets a prototype, or runs code; a malformed tag is an error.
 */
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
    const tag = Object.hasOwn(o, TYPE) ? o[TYPE] : undefined;
    switch (tag) {
      case undefined:
        return walkObject(o, path);
      case 'undefined':
      case 'function':
      case 'symbol':
      case 'omitted':
        return undefined;
      case 'bigint':
        expect(typeof o.value === 'string' && /^-?\d{1,100000}$/.test(o.value), 'bigint');
        return BigInt(o.value as string);
      case 'number':
        expect(typeof o.value === 'string', 'number');
        return Number(o.value);
      case 'ref':
        expect(typeof o.path === 'string' && byPath.has(o.path), 'reference to an earlier value');
        return byPath.get(o.path as string);
      case 'date': {
        expect(o.value === null || typeof o.value === 'string', 'date');
        const d = new Date(o.value === null ? Number.NaN : (o.value as string));
        byPath.set(path, d);
        return d;
      }
      case 'buffer': {
        expect(typeof o.base64 === 'string', 'buffer');
        const b = Buffer.from(o.base64 as string, 'base64');
        byPath.set(path, b);
        return b;
      }
      case 'typedarray': {
        expect(typeof o.base64 === 'string', 'typed array');
        const bytes = Buffer.from(o.base64 as string, 'base64');
        const Ctor =
          typeof o.kind === 'string' && Object.hasOwn(TYPED_ARRAYS, o.kind) ? TYPED_ARRAYS[o.kind] : undefined;
        const copy = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
        let arr: unknown = bytes;
        try {
          if (Ctor) arr = new Ctor(copy);
        } catch {
          // A length that does not fit the element size: the bytes are kept as a Buffer.
        }
        byPath.set(path, arr);
        return arr;
      }
      case 'map': {
        expect(Array.isArray(o.entries), 'map');
        const m = new Map();
        byPath.set(path, m);
        for (const [i, entry] of (o.entries as unknown[]).entries()) {
          expect(Array.isArray(entry) && entry.length === 2, 'map entry');
          const [k, val] = entry as [unknown, unknown];
          m.set(walk(k, `${path}.${i}.k`), walk(val, `${path}.${i}.v`));
        }
        return m;
      }
      case 'set': {
        expect(Array.isArray(o.values), 'set');
        const s = new Set();
        byPath.set(path, s);
        for (const [i, x] of (o.values as unknown[]).entries()) s.add(walk(x, `${path}.${i}`));
        return s;
      }
      case 'error': {
        const e = new Error(String(o.message ?? ''));
        define(e as unknown as Record<string, unknown>, 'name', String(o.name ?? 'Error'));
        if (typeof o.stack === 'string') e.stack = o.stack;
        if (o.code !== null && o.code !== undefined) define(e as unknown as Record<string, unknown>, 'code', o.code);
        byPath.set(path, e);
        return e;
      }
      case 'instance':
      case 'object':
        expect(typeof o.value === 'object' && o.value !== null && !Array.isArray(o.value), String(tag));
        return walkObject(o.value as Record<string, unknown>, path);
      default:
        // An object whose own "$type" key is data (serializeValue wraps those as 'object').
        return walkObject(o, path);
    }
  };
  const walkObject = (o: Record<string, unknown>, path: string) => {
    const out: Record<string, unknown> = {};
    byPath.set(path, out);
    for (const key of Object.keys(o)) define(out, key, walk(o[key], `${path}.${key}`));
    return out;
  };
  return walk(json, '$');
}

/** An error, as a letter keeps it; never throws (a field whose getter throws is left out). */
export function describeError(error: unknown): {
  name: string;
  message: string;
  stack?: string;
  code?: string;
  status?: number;
} {
  const read = <T>(get: () => T): T | undefined => {
    try {
      return get();
    } catch {
      return undefined;
    }
  };
  if (read(() => error instanceof Error)) {
    const e = error as Error & { status?: unknown; statusCode?: unknown };
    // The code of the error or of its cause: fetch's `TypeError: fetch failed` keeps ECONNREFUSED there.
    const code = read(() => errorCodeOf(error));
    const status = read(() =>
      typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : undefined,
    );
    const stack = read(() => e.stack);
    return {
      name: String(read(() => e.name) ?? 'Error'),
      message: String(read(() => e.message) ?? ''),
      ...(typeof stack === 'string' ? { stack } : {}),
      ...(code !== undefined ? { code } : {}),
      ...(status !== undefined ? { status } : {}),
    };
  }
  return { name: typeof error, message: read(() => String(error)) ?? 'an unreadable value' };
}
