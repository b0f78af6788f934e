// daemon/events: the one event bus behind GET /events. Services publish (images now, containers,
// networks and volumes later); subscribers get live events, and a bounded history serves `since`.
// Events carry moby's fields (api/types/events.Message), including the deprecated status/id/from
// that compose 1.29 reads.
import { nowNs } from '../util/time.js';

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

// The exact time in ns: `timeNano` is a number for the API's type, but a unix time in ns is past 2^53, where a
// double keeps only about a quarter of a microsecond; the wire and the since/until comparisons use this.
const NS = Symbol('ns');
type Stamped = EventMessage & { [NS]?: bigint };

/** An event's time in nanoseconds, exact. */
export function eventNs(e: EventMessage): bigint {
  return (e as Stamped)[NS] ?? BigInt(Math.round(e.timeNano));
}

/** The event as JSON, with the exact `timeNano` (JSON.stringify would print the nearest double). */
export function eventJson(e: EventMessage): string {
  const text = JSON.stringify(e);
  const at = text.lastIndexOf('"timeNano":'); // the last key (an unescaped quote cannot occur inside a string)
  if (at < 0) return text;
  const old = /^"timeNano":[-+.\de]+/.exec(text.slice(at))?.[0];
  if (!old) return text;
  return `${text.slice(0, at)}"timeNano":${eventNs(e)}${text.slice(at + old.length)}`;
}

/** Events kept for `since` replay (moby keeps 256 too, daemon/events/events.go eventsLimit). */
const HISTORY = 256;

export class EventBus {
  private readonly history: EventMessage[] = [];
  private readonly listeners = new Set<Listener>();

  /** Publishes an event; `attributes` become Actor.Attributes (container labels, image name, exitCode…). */
  publish(type: EventType, action: string, actorId: string, attributes: Record<string, string> = {}): EventMessage {
    const ns = nowNs();
    const e: EventMessage = {
      ...(type === 'container' || type === 'image' ? { status: action, id: actorId, ...(attributes.image ? { from: attributes.image } : {}) } : {}),
      Type: type, Action: action, Actor: { ID: actorId, Attributes: attributes }, scope: 'local',
      time: Number(ns / 1_000_000_000n), timeNano: Number(ns),
    };
    Object.defineProperty(e, NS, { value: ns, enumerable: false });
    this.history.push(e);
    if (this.history.length > HISTORY) this.history.shift();
    for (const l of this.listeners) {
      try { l(e); } catch { /* one listener must not break another */ }
    }
    return e;
  }

  /** Events at or after `sinceNs` (and at or before `untilNs`) from the history, oldest first. */
  replay(sinceNs: bigint, untilNs?: bigint): EventMessage[] {
    return this.history.filter((e) => eventNs(e) >= sinceNs && (untilNs === undefined || eventNs(e) <= untilNs));
  }

  subscribe(l: Listener): () => void {
    this.listeners.add(l);
    return () => { this.listeners.delete(l); };
  }

  get listenerCount(): number { return this.listeners.size; }
}
