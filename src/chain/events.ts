/**
 * The agent's event stream (contract/events.ts): the chain, the voice pipeline and the rehearsal speaker
 * publish here; logs, metrics and the rehearsal API's `GET /events` subscribe. Publishers give the event
 * without its timestamps; the bus stamps scenario time and wall time once, from the one clock.
 */
import { EventEmitter } from 'node:events';
import type { Clock } from '../../contract/clock.js';
import type { AgentEvent } from '../../contract/events.js';

type Unstamped<E> = E extends AgentEvent ? Omit<E, 'at' | 'epochMs'> : never;
export type EventInput = Unstamped<AgentEvent>;

export class AgentEvents {
  private readonly emitter = new EventEmitter();

  constructor(private readonly clock: Clock) {
    // Many subscribers (SSE clients, logs, metrics) are normal; no leak warnings for them.
    this.emitter.setMaxListeners(0);
  }

  publish(event: EventInput): AgentEvent {
    const stamped = { ...event, at: Math.round(this.clock.now()), epochMs: Date.now() } as AgentEvent;
    this.emitter.emit('event', stamped);
    return stamped;
  }

  subscribe(listener: (event: AgentEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }
}
