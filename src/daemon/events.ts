// daemon/events: the one event bus behind GET /events. Services publish (images now, containers,
// networks and volumes later); subscribers get live events, and a bounded history serves `since`.
// Events carry moby's fields (api/types/events.Message), including the deprecated status/id/from
// that compose 1.29 reads.

export type EventType = 'container' | 'image' | 'network' | 'volume' | 'daemon' | 'plugin' | 'builder';

export interface EventMessage {
  status?: string;
  id?: string;
  from?: string;
  Type: EventType;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local' | 'swarm';
  time: number;
  timeNano: number;
}

export type Listener = (e: EventMessage) => void;

/** Events kept for `since` replay (moby keeps 256 too, daemon/events/events.go eventsLimit). */
const HISTORY = 256;

export class EventBus {
  private readonly history: EventMessage[] = [];
  private readonly listeners = new Set<Listener>();

  /** Publishes an event; `attributes` become Actor.Attributes (container labels, image name, exitCode…). */
  publish(type: EventType, action: string, actorId: string, attributes: Record<string, string> = {}): EventMessage {
    const ns = process.hrtime.bigint() - hrBase + wallBase;
    const e: EventMessage = {
      ...(type === 'container' || type === 'image' ? { status: action, id: actorId, ...(attributes.image ? { from: attributes.image } : {}) } : {}),
      Type: type, Action: action, Actor: { ID: actorId, Attributes: attributes }, scope: 'local',
      time: Number(ns / 1_000_000_000n), timeNano: Number(ns),
    };
    this.history.push(e);
    if (this.history.length > HISTORY) this.history.shift();
    for (const l of this.listeners) {
      try { l(e); } catch { /* one listener must not break another */ }
    }
    return e;
  }

  /** Events at or after `sinceNs` (and before `untilNs`) from the history, oldest first. */
  replay(sinceNs: number, untilNs = Infinity): EventMessage[] {
    return this.history.filter((e) => e.timeNano >= sinceNs && e.timeNano <= untilNs);
  }

  subscribe(l: Listener): () => void {
    this.listeners.add(l);
    return () => { this.listeners.delete(l); };
  }

  get listenerCount(): number { return this.listeners.size; }
}

// wall clock in ns, monotonic between calls
const wallBase = BigInt(Date.now()) * 1_000_000n;
const hrBase = process.hrtime.bigint();
