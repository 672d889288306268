/** A listener of one event type. */
export type WsListener<T> = (payload: T) => void;

/**
 * A small typed event emitter (no `EventTarget`, which Node and browsers type
 * differently). A throwing listener neither stops the others nor the client:
 * its error is reported asynchronously, as `EventTarget` does.
 */
export class TypedEmitter<Events extends object> {
  private readonly listeners = new Map<keyof Events, Set<WsListener<never>>>();

  /** Adds `listener`; returns a function that removes it. */
  on<K extends keyof Events>(type: K, listener: WsListener<Events[K]>): () => void {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(listener as WsListener<never>);
    return () => this.off(type, listener);
  }

  off<K extends keyof Events>(type: K, listener: WsListener<Events[K]>): void {
    this.listeners.get(type)?.delete(listener as WsListener<never>);
  }

  protected emit<K extends keyof Events>(type: K, payload: Events[K]): void {
    const set = this.listeners.get(type);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        (listener as WsListener<Events[K]>)(payload);
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}
