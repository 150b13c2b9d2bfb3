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
import { socketLink, toParticipant, type Link, type ToCoordinator, type ToParticipant } from './link.js';
import { Quiet } from './quiet.js';
import { claimTime, releaseTime, settledOrStuck, VirtualTime } from './virtual-time.js';

/** The async id of Node's bootstrap: what a fired timer's work descends from, so it is never a link's own. */
const ROOT_ASYNC_ID = 1;
/** Where a child process finds the run's secret for `hello` (the environment, never the command line). */
export const CLOCK_TOKEN_ENV = 'HOLDLINE_CLOCK_TOKEN';

export class SharedClock extends VirtualTime {
  readonly quiet: Quiet;
  private link: Link<ToCoordinator, ToParticipant> | undefined;
  private readonly stopping = new AbortController();
  private driving: Promise<void> | undefined;

  constructor(
    readonly name: string,
    originEpochMs = Date.now(),
  ) {
    super(originEpochMs);
    claimTime(this);
    this.quiet = new Quiet(true);
  }

  /**
   * A clock in a child process, linked to the coordinator at `address` ("127.0.0.1:PORT", "holdline-clock:PORT").
   * @param onLost called when the link closes while the clock runs: time can no longer move here.
   */
  static async connect(address: string, name: string, token: string, onLost: () => void = () => {}): Promise<SharedClock> {
    const clock = new SharedClock(name);
    try {
      const port = Number(address.slice(address.lastIndexOf(':') + 1));
      const socket = clock.quiet.quietly(() => connect({ host: address.slice(0, address.lastIndexOf(':')), port }));
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('error', (error) => reject(new Error(`cannot reach the virtual clock's coordinator at ${address}: ${error.message}`)));
      });
      const link = socketLink<ToCoordinator, ToParticipant>(socket, clock.quiet, toParticipant);
      link.onClose(() => {
        if (!clock.stopping.signal.aborted) onLost();
      });
      return clock.attach(link, token);
    } catch (error) {
      await clock.stop();
      throw error;
    }
  }

  /** Starts reporting to the coordinator over `link` (once). */
  attach(link: Link<ToCoordinator, ToParticipant>, token: string): this {
    this.link = link;
    link.onMessage((message) => this.receive(message));
    link.send({ t: 'hello', name: this.name, token });
    this.driving = this.drive().catch(() => {});
    return this;
  }

  async stop(): Promise<void> {
    this.stopping.abort(new Error('the clock stopped'));
    await this.driving;
    this.link?.close();
    this.quiet.close();
    releaseTime(this);
  }

  private receive(message: ToParticipant): void {
    switch (message.t) {
      case 'peers':
        this.quiet.setPeers(message.ends);
        return;
      case 'forget':
        this.quiet.forgetClosed(message.ends);
        return;
      case 'advance':
        this.current = Math.max(this.current, message.to);
        this.link?.send({ t: 'advanced', round: message.round });
        return;
      case 'fire': {
        // Runs as work (not the link's own), even when the timer was cancelled meanwhile: the callback itself is
        // activity, so this process settles and reports again either way.
        const scope = new AsyncResource('HOLDLINE_TIMER', { triggerAsyncId: ROOT_ASYNC_ID });
        scope.runInAsyncScope(() => this.fireNext(message.at));
        scope.emitDestroy();
        return;
      }
    }
  }

  private async drive(): Promise<void> {
    const signal = this.stopping.signal;
    const quiet = this.quiet;
    while (!signal.aborted) {
      await settledOrStuck(quiet, signal, (why) => this.link?.send({ t: 'stuck', why }));
      const seen = quiet.activityCount;
      const next = this.timers[0];
      this.link?.send({ t: 'idle', next: next ? [next.at, next.seq] : null, listening: quiet.listening(), crossings: quiet.crossings() });
      await quiet.activityAfter(seen, signal);
      this.link?.send({ t: 'busy' });
    }
  }
}
