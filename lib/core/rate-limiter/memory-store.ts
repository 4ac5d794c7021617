import { type Clock, coarseClock } from '../clock.js';
import { type Decision, decide, isIdle, newDecision, type RateState } from './algorithms.js';
import { capacity, type RateLimitRule, type RateLimitStore, type RateLimitVerdict } from './types.js';

/** Whole milliseconds, rounded up, ignoring float noise: the Redis script rounds the same way, so both stores agree. */
function upToMs(ms: number): number {
  return Math.max(0, Math.ceil(ms - 1e-6));
}

export interface MemoryStoreOptions {
  /** Keys kept per limiter; beyond it the least recently used (idle ones first) are forgotten. Default 1,000,000. */
  maxKeys?: number;
  clock?: Clock;
}

/** Slots a CLOCK sweep looks at per eviction before it takes the one under its hand. */
const SWEEP_LIMIT = 32;

/**
 * The keys of one limiter: a Map from key to a slot in three Float64Arrays, so a key
 * costs its Map entry and 24 bytes, and no timer exists per key or per hit. When full,
 * a CLOCK sweep (second-chance LRU) over the slots forgets an idle or least recently
 * used key. The hand moves over slot numbers, not Map order, and looks at no more than
 * SWEEP_LIMIT slots per eviction, so an eviction costs O(1) whatever the table holds
 * (a Map's insertion order, swept from its start, degrades as deletions pile up).
 */
export class KeyTable {
  private readonly slots = new Map<string, number>();
  private a: Float64Array;
  private b: Float64Array;
  private c: Float64Array;
  private used: Uint8Array;
  /** The key held by each slot (undefined: free). */
  private keys: (string | undefined)[] = [];
  private readonly free: number[] = [];
  private next = 0;
  private hand = 0;
  /** Evictions made and slots looked at for them: the sweep's cost, for tests and tuning. */
  readonly sweep = { evictions: 0, probes: 0, maxProbes: 0 };

  constructor(
    private rule: RateLimitRule,
    private readonly maxKeys: number,
  ) {
    const initial = Math.min(maxKeys, 1024);
    this.a = new Float64Array(initial);
    this.b = new Float64Array(initial);
    this.c = new Float64Array(initial);
    this.used = new Uint8Array(initial);
  }

  /** The rule idle keys are judged by, after a reload changed it. */
  retune(rule: RateLimitRule): void {
    this.rule = rule;
  }

  /** Forgets every key (a reload changed the strategy: the states mean something else now). */
  clear(): void {
    this.slots.clear();
    this.used.fill(0);
    this.keys = [];
    this.free.length = 0;
    this.next = 0;
    this.hand = 0;
  }

  get size(): number {
    return this.slots.size;
  }

  read(key: string, into: RateState): number | undefined {
    const slot = this.slots.get(key);
    if (slot === undefined) {
      into.a = into.b = into.c = 0;
      return undefined;
    }
    this.used[slot] = 1;
    into.a = this.a[slot];
    into.b = this.b[slot];
    into.c = this.c[slot];
    return slot;
  }

  write(key: string, slot: number | undefined, state: RateState, now: number): void {
    // A new key starts unreferenced: only a later access earns it a second chance.
    const at = slot ?? this.allocate(key, now);
    this.a[at] = state.a;
    this.b[at] = state.b;
    this.c[at] = state.c;
    this.used[at] = slot === undefined ? 0 : 1;
  }

  delete(key: string): void {
    const slot = this.slots.get(key);
    if (slot === undefined) return;
    this.slots.delete(key);
    this.keys[slot] = undefined;
    this.free.push(slot);
  }

  private allocate(key: string, now: number): number {
    if (this.slots.size >= this.maxKeys) this.evictOne(now);
    let slot = this.free.pop();
    if (slot === undefined) {
      if (this.next === this.a.length) this.grow();
      slot = this.next++;
    }
    this.slots.set(key, slot);
    this.keys[slot] = key;
    return slot;
  }

  /**
   * Second chance: a recently used, still active key is passed over once (its bit is
   * cleared); the first other one goes. After SWEEP_LIMIT slots the one under the hand goes
   * anyway: with every key busy, one of them must be forgotten, and no decision may wait.
   */
  private evictOne(now: number): void {
    const probe: RateState = { a: 0, b: 0, c: 0 };
    const slots = this.next;
    this.sweep.evictions++;
    for (let looked = 0; ; looked++) {
      this.sweep.probes++;
      const slot = this.hand;
      this.hand = this.hand + 1 >= slots ? 0 : this.hand + 1;
      const key = this.keys[slot];
      if (key === undefined) continue;
      probe.a = this.a[slot];
      probe.b = this.b[slot];
      probe.c = this.c[slot];
      if (looked < SWEEP_LIMIT && this.used[slot] && !isIdle(this.rule, probe, now)) {
        this.used[slot] = 0;
        continue;
      }
      this.delete(key);
      if (looked + 1 > this.sweep.maxProbes) this.sweep.maxProbes = looked + 1;
      return;
    }
  }

  private grow(): void {
    const size = Math.min(this.maxKeys + 1, this.a.length * 2);
    const grown = (from: Float64Array) => {
      const to = new Float64Array(size);
      to.set(from);
      return to;
    };
    this.a = grown(this.a);
    this.b = grown(this.b);
    this.c = grown(this.c);
    const used = new Uint8Array(size);
    used.set(this.used);
    this.used = used;
  }
}

function verdict(rule: RateLimitRule, d: Decision): RateLimitVerdict {
  return {
    allowed: d.allowed,
    limiter: rule.name,
    limit: capacity(rule),
    remaining: d.remaining,
    retryAfter: upToMs(d.retryAfterMs) / 1000,
    resetAfter: upToMs(d.resetAfterMs) / 1000,
    window: rule.windowMs / 1000,
  };
}

/**
 * Limiter state in this process: exact for one process, O(1) per decision, bounded
 * memory, no timers. Decisions are synchronous.
 */
export class MemoryRateLimitStore implements RateLimitStore {
  private readonly tables = new Map<string, KeyTable>();
  private readonly maxKeys: number;
  private readonly clock: Clock;
  private readonly scratch: RateState = { a: 0, b: 0, c: 0 };
  private readonly decision: Decision = newDecision();

  constructor(options: MemoryStoreOptions = {}) {
    this.maxKeys = options.maxKeys ?? 1_000_000;
    if (!(Number.isInteger(this.maxKeys) && this.maxKeys >= 1))
      throw new RangeError(`maxKeys must be an integer >= 1, got ${this.maxKeys}`);
    // The default clock is coarse: a decision needs milliseconds, not a fresh Date.now() each time.
    this.clock = options.clock ?? coarseClock;
  }

  /** Keys held for a limiter. */
  size(limiter: string): number {
    return this.tables.get(limiter)?.size ?? 0;
  }

  consume(rules: readonly RateLimitRule[], key: string, cost: number): RateLimitVerdict[] {
    if (rules.length === 1) return [this.consumeOne(rules[0], key, cost)];
    return this.decideAll(rules, key, cost, true);
  }

  /** One rule: the common case, without the arrays of the multi-rule path. */
  consumeOne(rule: RateLimitRule, key: string, cost: number, table = this.table(rule)): RateLimitVerdict {
    return verdict(rule, this.decideOne(rule, key, cost, table));
  }

  /**
   * The decision alone, counted if admitted, in an object reused by the next call (read it
   * at once); `toVerdict` makes a verdict of it when one is needed.
   */
  decideOne(rule: RateLimitRule, key: string, cost: number, table = this.table(rule)): Decision {
    const now = this.clock.now();
    const slot = table.read(key, this.scratch);
    const d = decide(rule, this.scratch, now, cost, this.decision);
    if (d.allowed) table.write(key, slot, d.next, now);
    return d;
  }

  toVerdict(rule: RateLimitRule, decision: Decision): RateLimitVerdict {
    return verdict(rule, decision);
  }

  peek(rules: readonly RateLimitRule[], key: string, cost: number): RateLimitVerdict[] {
    return this.decideAll(rules, key, cost, false);
  }

  reset(rules: readonly RateLimitRule[], key: string): void {
    for (const rule of rules) this.tables.get(rule.name)?.delete(key);
  }

  private decideAll(rules: readonly RateLimitRule[], key: string, cost: number, commit: boolean): RateLimitVerdict[] {
    const now = this.clock.now();
    const decisions: Decision[] = [];
    const slots: (number | undefined)[] = [];
    let allowed = true;
    for (const rule of rules) {
      const state: RateState = { a: 0, b: 0, c: 0 };
      slots.push(this.table(rule).read(key, state));
      const d = decide(rule, state, now, cost);
      decisions.push(d);
      allowed &&= d.allowed;
    }
    if (commit && allowed) {
      for (const [i, rule] of rules.entries()) this.table(rule).write(key, slots[i], decisions[i].next, now);
    }
    // When one rule denies, the call is denied everywhere: report it so on every rule.
    return rules.map((rule, i) => {
      const v = verdict(rule, decisions[i]);
      if (!allowed && v.allowed) {
        v.allowed = false;
        v.remaining += cost;
      }
      return v;
    });
  }

  /** The key table of a limiter (a limiter may hold on to it to skip the lookup). */
  table(rule: RateLimitRule): KeyTable {
    let table = this.tables.get(rule.name);
    if (!table) {
      table = new KeyTable(rule, this.maxKeys);
      this.tables.set(rule.name, table);
    }
    return table;
  }

  /**
   * A limiter's rule changed (a reload): its counts are kept under the new rule when the
   * strategy is the same (the state means the same), dropped when it is not.
   */
  retune(rule: RateLimitRule, previous: RateLimitRule): void {
    const table = this.tables.get(rule.name);
    if (!table) return;
    if (rule.strategy !== previous.strategy) table.clear();
    table.retune(rule);
  }
}
