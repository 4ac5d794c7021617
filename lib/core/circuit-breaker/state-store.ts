import type { CircuitBreakerSnapshot, CircuitStateStore } from './types.js';

export type { CircuitStateStore } from './types.js';

/** Keeps the last state of every breaker in this process (e.g. across a breaker re-created on reload). */
export class MemoryCircuitStateStore implements CircuitStateStore {
  private readonly states = new Map<string, CircuitBreakerSnapshot>();

  load(name: string): CircuitBreakerSnapshot | undefined {
    return this.states.get(name);
  }

  save(snapshot: CircuitBreakerSnapshot): void {
    this.states.set(snapshot.name, snapshot);
  }
}
