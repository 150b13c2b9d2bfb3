/**
 * When a request arrived: the instant its journal entry holds and every scenario time of its answer counts from
 * (the ttft, a deadline, a rule's window).
 *
 * Node reads a burst of requests in one poll phase of the event loop: the kernel said all of those sockets were
 * readable when its wait returned, and Node then parses them one after the other (node:http's parser, about 50 us
 * each under `tsx`). Stamping each request when its own turn in that loop came counted the parsing of every
 * request before it as the later ones' time in transit: `bench:fake` saw 139 requests of a burst of 200 read in
 * one 7.6 ms phase, so the last of them started its 200 ms ttft 7.6 ms after its bytes were in the fake's socket.
 * A request read in the phase that began with an earlier request's stamp had arrived by then, so it gets that
 * stamp: the earliest instant the fake knows the request was there.
 *
 * The stamp is shared only until the phase is over (the `setImmediate`, which runs right after the poll phase);
 * requests read in the next phase get a new one. Its callers are the requests' `'request'` handlers, which run in
 * the poll phase, as I/O callbacks. (Were one called outside the poll phase, e.g. a pipelined
 * request parsed when its paused socket drains after a write in a timer, its stamp would last into the next poll and
 * date the requests read there up to one loop turn early, but never across an idle wait: the pending clearing makes
 * that turn's poll look without waiting. OpenRouter's clients do not pipeline.) (libuv asks the kernel for at most 1024 ready sockets per wait; beyond that,
 * one phase may wait again, and the requests of that second wait share a stamp up to that much reading too early.)
 *
 * On virtual time (an AutoClock, speed Infinity) the clock stands still while the process works, and a clock
 * shared between processes moves on a message that may be read in the middle of a phase: there each request gets
 * the clock's own now, as before, so a rehearsal's journal stays the same byte for byte.
 * Hand-written: no library stamps requests by event-loop turn.
 */
import type { Clock } from '../../contract/clock.js';

export class Arrivals {
  private stamp: number | undefined;
  private readonly clearStamp = () => {
    this.stamp = undefined;
  };

  constructor(private readonly clock: Clock & { readonly speed: number }) {}

  /** Scenario ms at which a request read now arrived. */
  now(): number {
    if (!Number.isFinite(this.clock.speed)) return this.clock.now();
    if (this.stamp === undefined) {
      this.stamp = this.clock.now();
      setImmediate(this.clearStamp);
    }
    return this.stamp;
  }

  /** The clock was reset: a stamp taken before must not date a request read after. */
  forget(): void {
    this.stamp = undefined;
  }
}
