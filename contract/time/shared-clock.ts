/**
 * Virtual time across processes: the fake, the agent and the runner each in its own process (the process
 * stack), one scenario time. Each process runs a SharedClock: it keeps its own timers and, when the process is
 * idle (quiet.ts), tells the coordinator (coordinator.ts) its next timer and the byte counts of its connections
 * to the others. The coordinator moves time only when every process is idle and every byte one wrote has been
 * read by the other (Mattern's counting for distributed termination), then to the earliest timer anywhere:
 * it sets every clock to that instant, and only then has its owner run it.
 *
 * Hand-written, like quiet.ts: no library coordinates idle-time skipping across Node processes.
 */
import { AsyncResource } from 'node:async_hooks';
import { connect } from 'node:net';
import { moving, STUCK_AFTER_MS } from './auto-clock.js';
import { socketLink, toParticipant, type Link, type ToCoordinator, type ToParticipant } from './link.js';
import { Quiet } from './quiet.js';
import { VirtualTime } from './virtual-time.js';

/** The async id of Node's bootstrap: what a fired timer's work descends from, so it is never a link's own. */
const ROOT_ASYNC_ID = 1;

export class SharedClock extends VirtualTime {
  readonly quiet = new Quiet(true);
  private link: Link<ToCoordinator, ToParticipant> | undefined;
  private readonly stopping = new AbortController();
  private driving: Promise<void> | undefined;
  /** Closed connections included in the last idle report, forgotten once the coordinator moved on. */
  private closedReported = 0;

  constructor(
    readonly name: string,
    originEpochMs = Date.now(),
  ) {
    super(originEpochMs);
    if (moving.size > 0) {
      this.quiet.close();
      throw new Error('another clock is already moving time in this process; stop it first');
    }
    moving.add(this);
  }

  /** A clock in a child process, linked to the coordinator at `address` ("127.0.0.1:PORT"). */
  static async connect(address: string, name: string): Promise<SharedClock> {
    const clock = new SharedClock(name);
    const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
    const socket = clock.quiet.quietly(() => connect({ host, port }));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', (error) => reject(new Error(`cannot reach the virtual clock's coordinator at ${address}: ${error.message}`)));
    });
    return clock.attach(socketLink(socket, clock.quiet, toParticipant));
  }

  /** Starts reporting to the coordinator over `link` (once). */
  attach(link: Link<ToCoordinator, ToParticipant>): this {
    this.link = link;
    link.onMessage((message) => this.receive(message));
    link.send({ t: 'hello', name: this.name });
    this.driving = this.drive().catch(() => {});
    return this;
  }

  async stop(): Promise<void> {
    this.stopping.abort(new Error('the clock stopped'));
    await this.driving;
    this.link?.close();
    this.quiet.close();
    moving.delete(this);
  }

  private receive(message: ToParticipant): void {
    if (message.t === 'peers') {
      this.quiet.setPeers(message.ports);
      return;
    }
    this.quiet.forgetClosed(this.closedReported);
    this.closedReported = 0;
    if (message.t === 'advance') {
      this.current = Math.max(this.current, message.to);
      this.link?.send({ t: 'advanced' });
      return;
    }
    // Runs as work (not the link's own), even when the timer was cancelled meanwhile: the callback itself is
    // activity, so this process settles and reports again either way.
    const scope = new AsyncResource('HOLDLINE_TIMER', { triggerAsyncId: ROOT_ASYNC_ID });
    scope.runInAsyncScope(() => this.fireNext(message.at));
    scope.emitDestroy();
  }

  private async drive(): Promise<void> {
    const signal = this.stopping.signal;
    const quiet = this.quiet;
    while (!signal.aborted) {
      const watchdog = quiet.quietly(() => setTimeout(() => this.link?.send({ t: 'stuck', why: quiet.busyWith() }), STUCK_AFTER_MS));
      watchdog.unref();
      try {
        await quiet.settled(signal);
      } finally {
        clearTimeout(watchdog);
      }
      const seen = quiet.activityCount;
      const crossings = quiet.crossings();
      this.closedReported = crossings.filter((c) => c.closed).length;
      const next = this.timers[0];
      this.link?.send({ t: 'idle', next: next ? [next.at, next.seq] : null, listening: quiet.listening(), crossings });
      await quiet.activityAfter(seen, signal);
      this.link?.send({ t: 'busy' });
    }
  }
}
