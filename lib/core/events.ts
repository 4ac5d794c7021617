/** Stops a subscription. */
export type Unsubscribe = () => void;

/** A typed event (cockatiel's Event): call it with a listener to subscribe, at any time. */
export type Event<T> = (listener: (data: T) => void) => Unsubscribe;

/**
 * The emitting side of an Event. A listener that throws never changes the outcome of the
 * call it observes, nor stops the other listeners; its error becomes a process warning.
 */
export class EventSource<T> {
  private listeners: ReadonlyArray<(data: T) => void> = [];

  readonly event: Event<T> = (listener) => {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  };

  /** True when someone listens: emitters skip building the event otherwise. */
  get hasListeners(): boolean {
    return this.listeners.length > 0;
  }

  emit(data: T): void {
    for (const listener of this.listeners) {
      try {
        listener(data);
      } catch (error) {
        process.emitWarning(`nest-resilience: an event listener threw: ${(error as Error)?.message ?? error}`);
      }
    }
  }
}
