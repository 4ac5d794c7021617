import { ResilienceConfigError } from '../../core/errors.js';

const functionIds = new WeakMap<object, number>();
let nextFunctionId = 0;

/** Options as a string that is equal exactly when they are: key order ignored, functions and classes by identity. */
export function optionsSignature(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'function') {
      let id = functionIds.get(v);
      if (id === undefined) {
        id = ++nextFunctionId;
        functionIds.set(v, id);
      }
      return `[function ${v.name || 'anonymous'} #${id}]`;
    }
    if (v instanceof RegExp) return `[regexp ${v}]`;
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return v;
  });
}

/**
 * What each named breaker, retry policy or limiter was created with, and where: asking
 * again for a name with other effective options is an error naming both places, never a
 * silent first-wins (places sharing one breaker must agree on what it is).
 */
export class NamedSettings {
  private readonly first = new Map<string, { signature: string; origin: string }>();

  constructor(private readonly kind: string) {}

  /** Records the first options of `name`; throws if these differ. */
  agree(name: string, effective: unknown, origin: string): void {
    const signature = optionsSignature(effective);
    const existing = this.first.get(name);
    if (!existing) {
      this.first.set(name, { signature, origin });
      return;
    }
    if (existing.signature === signature) return;
    throw new ResilienceConfigError([
      {
        path: `${this.kind} "${name}"`,
        message: `${origin} gives it other options than ${existing.origin} (${existing.signature} vs ${signature}); one name is one ${this.kind}: give both the same options, or different names`,
      },
    ]);
  }
}

/**
 * Options objects already checked for a name (and tier): a call site that passes the same
 * options object on every call pays a lookup, not a parse, a resolve and a signature.
 */
export class CheckedOptions {
  private readonly seen = new WeakMap<object, Set<string>>();

  has(options: object | undefined, key: string): boolean {
    return options !== undefined && this.seen.get(options)?.has(key) === true;
  }

  add(options: object | undefined, key: string): void {
    if (options === undefined) return;
    let keys = this.seen.get(options);
    if (!keys) {
      keys = new Set();
      this.seen.set(options, keys);
    }
    keys.add(key);
  }
}
