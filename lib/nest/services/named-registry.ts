import { ResilienceConfigError } from '../../core/errors.js';
import { type Event, EventSource, type Unsubscribe } from '../../core/events.js';
import type { ReloadStep } from '../reload/reload-types.js';

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

/** How a registry makes one of its items from a name, the caller's options and a tier. */
export interface RegistryRecipe<T, O, R> {
  /** What the items are, for errors: 'circuit breaker', 'rate limiter'... */
  readonly kind: string;
  /** The caller named in a conflict when none says where it asks from: 'CircuitBreakerService.get'... */
  readonly origin: string;
  /** Validates `options` (a ResilienceConfigError naming the item) and layers them on the configuration. */
  resolve(name: string, options: O | undefined, tier: string | undefined): R;
  /** The part of the resolved settings that is the item (default: all of it); the rest is each caller's own. */
  identity?(resolved: R): unknown;
  /** Builds the item; a RangeError becomes a ResilienceConfigError naming the item. */
  create(name: string, resolved: R): T;
}

/**
 * Named items (breakers, retry policies, limiters, queues) created on first use from
 * resolved settings. Asking again for a name with other effective options is an error
 * naming both places (`origin`), never a silent first-wins: places sharing one item must
 * agree on what it is. The same options object asked for again costs one lookup.
 */
export class NamedRegistry<T, O extends object = object, R = unknown> {
  private readonly items = new Map<string, T>();
  private first = new Map<string, { signature: string; origin: string }>();
  private checked = new WeakMap<object, Set<string>>();
  /** How each item was first asked for: a reload asks again the same way. */
  private readonly asked = new Map<string, { options?: O; tier?: string }>();
  private readonly created = new EventSource<{ name: string; item: T }>();
  /** An item was created. Subscribe at any time; see `each` for the items already there too. */
  readonly onCreated: Event<{ name: string; item: T }> = this.created.event;

  constructor(private readonly recipe: RegistryRecipe<T, O, R>) {}

  /**
   * The item `name`, created on first use. With no options, tier or origin it is a lookup
   * (creating it from the configuration if it does not exist yet).
   */
  get(name: string, options?: O, tier?: string, origin?: string): T {
    const existing = this.items.get(name);
    if (existing !== undefined && options === undefined && tier === undefined && origin === undefined) return existing;
    const checkKey = `${name}\u0000${tier ?? ''}`;
    if (existing !== undefined && options !== undefined && this.checked.get(options)?.has(checkKey)) return existing;
    const resolved = this.recipe.resolve(name, options, tier);
    this.agree(name, this.recipe.identity ? this.recipe.identity(resolved) : resolved, origin);
    if (options !== undefined) this.remember(options, checkKey);
    if (existing !== undefined) return existing;
    const item = this.build(name, resolved);
    this.items.set(name, item);
    this.asked.set(name, { options, tier });
    this.created.emit({ name, item });
    return item;
  }

  /**
   * Follows a reload (the settings now resolve differently): each item is asked for again as
   * it was first; one whose settings changed is replaced by a new one, `transfer` carrying
   * over what keeps its meaning, the others are kept as they are (state and all). Places
   * asking for an item agree anew. Nothing changes if a replacement cannot be built (it throws).
   * `retire` runs once the whole reload has been applied (what cannot be undone goes there).
   */
  reloaded(
    hooks: { transfer?(old: T, next: T, name: string): void; retire?(old: T, next: T, name: string): void } = {},
  ): ReloadStep {
    const replaced: [name: string, old: T, next: T, signature: string][] = [];
    for (const [name, resolved, signature] of this.changes()) {
      replaced.push([name, this.items.get(name) as T, this.build(name, resolved), signature]);
    }
    const previousFirst = new Map(this.first);
    this.first = new Map([...this.first].filter(([name]) => this.items.has(name)));
    for (const [name, old, next, signature] of replaced) {
      hooks.transfer?.(old, next, name);
      this.items.set(name, next);
      this.first.set(name, { signature, origin: previousFirst.get(name)?.origin ?? this.recipe.origin });
    }
    // Callers check their options again against the new settings.
    this.checked = new WeakMap();
    for (const [name, , next] of replaced) this.created.emit({ name, item: next });
    return {
      changed: replaced.map(([name]) => `${this.recipe.kind} "${name}"`),
      rollback: () => {
        for (const [name, old] of replaced) this.items.set(name, old);
        this.first = previousFirst;
        this.checked = new WeakMap();
      },
      finish: () => {
        for (const [name, old, next] of replaced) hooks.retire?.(old, next, name);
      },
    };
  }

  /** The items whose settings resolve differently now (a reload), with their new settings; nothing is built. */
  changes(): [name: string, resolved: R, signature: string][] {
    const changed: [string, R, string][] = [];
    for (const name of this.items.keys()) {
      const asked = this.asked.get(name) ?? {};
      const resolved = this.recipe.resolve(name, asked.options, asked.tier);
      const signature = optionsSignature(this.recipe.identity ? this.recipe.identity(resolved) : resolved);
      if (signature !== this.first.get(name)?.signature) changed.push([name, resolved, signature]);
    }
    return changed;
  }

  private build(name: string, resolved: R): T {
    try {
      return this.recipe.create(name, resolved);
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      throw new ResilienceConfigError([{ path: `${this.recipe.kind} "${name}"`, message: error.message }]);
    }
  }

  /** The item if it exists; never creates one. */
  find(name: string): T | undefined {
    return this.items.get(name);
  }

  all(): ReadonlyMap<string, T> {
    return this.items;
  }

  /**
   * Calls `attach` for every item, those there now and those created later (how metrics,
   * health and user listeners subscribe to the items' own events). The returned function
   * stops it and calls every unsubscribe `attach` returned.
   */
  each(attach: (item: T, name: string) => Unsubscribe | undefined): Unsubscribe {
    const detach: Unsubscribe[] = [];
    const add = (item: T, name: string) => {
      const off = attach(item, name);
      if (off) detach.push(off);
    };
    for (const [name, item] of this.items) add(item, name);
    const stop = this.onCreated(({ name, item }) => add(item, name));
    return () => {
      stop();
      for (const off of detach.splice(0)) off();
    };
  }

  private agree(name: string, effective: unknown, origin = this.recipe.origin): void {
    const signature = optionsSignature(effective);
    const existing = this.first.get(name);
    if (!existing) {
      this.first.set(name, { signature, origin });
      return;
    }
    if (existing.signature === signature) return;
    const { kind } = this.recipe;
    throw new ResilienceConfigError([
      {
        path: `${kind} "${name}"`,
        message: `${origin} gives it other options than ${existing.origin} (${existing.signature} vs ${signature}); one name is one ${kind}: give both the same options, or different names`,
      },
    ]);
  }

  private remember(options: object, key: string): void {
    let keys = this.checked.get(options);
    if (!keys) {
      keys = new Set();
      this.checked.set(options, keys);
    }
    keys.add(key);
  }
}
