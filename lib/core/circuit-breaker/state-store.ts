import type { CircuitBreakerSnapshot } from './types.js';

/**
 * Where a breaker's state lives beyond the process's own memory: read once when the
 * breaker is created, written at every state change (a store shared by replicas can
 * implement it: the breaker calls it synchronously and never waits on it).
 */
export interface CircuitStateStore {
  load(name: string): CircuitBreakerSnapshot | undefined;
  save(snapshot: CircuitBreakerSnapshot): void;
}

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
