/**
 * The coordinator of a shared virtual time (see shared-clock.ts): it runs in the runner's process, which is a
 * participant too (its player waits on scenario instants), and accepts the other processes' clocks on a
 * loopback port, each with the run's secret and a name of its own. It moves time only when every participant is
 * idle and every connection between two of them is balanced (crossings.ts), to the earliest timer of any: ties
 * go by participant name, then by the order they were set, so the same rehearsal takes the same steps on any
 * machine.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { inFlight, type Crossing } from './crossings.js';
import { timeHeld, whenTimeReleased } from './held.js';
import { localLinks, socketLink, toCoordinator, type Link, type Next, type ToCoordinator, type ToParticipant } from './link.js';
import { SharedClock } from './shared-clock.js';
import { STUCK_AFTER_MS } from './virtual-time.js';

/** Wall ms a connection to the clock's port has to say who it is. */
const HELLO_WITHIN_MS = 10_000;
/** More participants than any fleet (50 calls) plus the fake and the runner. */
const MAX_CONNECTIONS = 128;

interface Participant {
  name: string;
  link: Link<ToParticipant, ToCoordinator>;
  /** Its last idle report, or undefined while it works. */
  idle: { next: Next; listening: string[]; crossings: Crossing[] } | undefined;
  /** Internal scenario ms its clock stands at. */
  at: number;
  /** Where it listens ("addr:port"), from its last idle report (kept while it works). */
  listening: string[];
  stuck: string[];
}

export class Coordinator {
  readonly clock: SharedClock;
  /** The run's secret: a participant's `hello` must carry it (children get it in CLOCK_TOKEN_ENV). */
  readonly token = randomBytes(16).toString('hex');
  private readonly parts = new Set<Participant>();
  private readonly joinWaiters = new Map<string, () => void>();
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;
  private moving = false;
  /** Internal scenario ms: where every participant's clock stands once told. */
  private time = 0;
  private round = 0;
  private advancing: { owner: Participant; at: number; round: number; waiting: Set<Participant> } | undefined;
  /** Closed connection ends already seen closed on both sides (crossings.ts). */
  private readonly resolved = new Set<string>();
  private lastMove = Date.now();
  private watchdog: NodeJS.Timeout | undefined;
  private stopped = false;

  /** Stops looking again when the runner's holds are released (see `step`). */
  private readonly stopLooking: () => void;

  /**
   * @param onFailure called when time cannot go on: it could not move for STUCK_AFTER_MS of wall time (with what
   *   keeps it), or a participant left the clock while it ran.
   */
  constructor(private readonly onFailure: (why: string) => void = () => {}) {
    this.clock = new SharedClock('runner');
    const [coordinatorEnd, clockEnd] = localLinks<ToParticipant, ToCoordinator>(this.clock.quiet);
    this.accept(coordinatorEnd);
    this.clock.attach(clockEnd, this.token);
    this.stopLooking = whenTimeReleased(() => this.step());
  }

  /**
   * Listens for the other processes' clocks; resolves with the address to give them (`--clock`).
   * @param host 127.0.0.1 (processes on this machine). Containers cannot reach the host's loopback: the container
   *   stack says where they can (the engine's bridge, containers.ts), still one address, never every interface.
   */
  async listen(host = '127.0.0.1'): Promise<string> {
    const quiet = this.clock.quiet;
    const server = quiet.quietly(() =>
      createServer((socket) => {
        this.sockets.add(socket);
        socket.once('close', () => this.sockets.delete(socket));
        this.accept(socketLink(socket, quiet, toCoordinator), socket);
      }),
    );
    server.maxConnections = MAX_CONNECTIONS;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      quiet.quietly(() => server.listen(0, host, resolve));
    });
    const address = server.address();
    if (!address || typeof address === 'string') throw new Error('the virtual clock did not get a port');
    quiet.hidePort(address.port);
    return `${host}:${address.port}`;
  }

  /** Resolves when a participant called `name` has joined. */
  joined(name: string): Promise<void> {
    if ([...this.parts].some((p) => p.name === name)) return Promise.resolve();
    return new Promise((resolve) => this.joinWaiters.set(name, resolve));
  }

  /** The names of the participants on the clock now (the runner's own `runner` included). */
  participants(): string[] {
    return [...this.parts].map((p) => p.name);
  }

  /** Starts moving time (everyone expected has joined). */
  start(): void {
    this.moving = true;
    this.lastMove = Date.now();
    this.armWatchdog();
    this.step();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.moving = false;
    this.stopLooking();
    clearTimeout(this.watchdog);
    await this.clock.stop();
    for (const part of this.parts) part.link.close();
    // Connections that never said who they are too: a silent client must not hold the runner open.
    for (const socket of this.sockets) socket.destroy();
    const server = this.server;
    if (server) await new Promise((resolve) => server.close(resolve));
  }

  private accept(link: Link<ToParticipant, ToCoordinator>, socket?: Socket): void {
    let part: Participant | undefined;
    const anonymous = socket && this.clock.quiet.quietly(() => setTimeout(() => link.close(), HELLO_WITHIN_MS).unref());
    link.onMessage((message) => {
      if (message.t === 'hello') {
        clearTimeout(anonymous);
        // One name per participant: ties between processes go by name, so a name must say which one.
        if (part || message.token !== this.token || [...this.parts].some((p) => p.name === message.name)) return link.close();
        part = { name: message.name, link, idle: undefined, at: this.time, listening: [], stuck: [] };
        this.parts.add(part);
        // A late joiner starts at the current instant, like everyone.
        link.send({ t: 'advance', to: part.at, round: this.round });
        this.sendPeers();
        this.joinWaiters.get(part.name)?.();
        return;
      }
      if (part) this.receive(part, message);
      else link.close();
    });
    link.onClose(() => {
      if (!part) return;
      const left = part;
      this.parts.delete(left);
      if (this.moving && !this.stopped) this.onFailure(`${left.name} left the clock`);
      if (this.advancing?.owner === left) this.advancing = undefined;
      this.advancing?.waiting.delete(left);
      if (this.advancing?.waiting.size === 0) this.fire();
      else this.step();
    });
  }

  private receive(part: Participant, message: ToCoordinator): void {
    switch (message.t) {
      case 'idle':
        part.idle = { next: message.next, listening: message.listening, crossings: message.crossings };
        // A port pair in use again is a new connection, whatever became of the last one on it.
        for (const end of message.crossings) if (!end.closed) this.resolved.delete(`${end.local}>${end.remote}`);
        part.stuck = [];
        if (message.listening.join() !== part.listening.join()) {
          part.listening = message.listening;
          this.sendPeers();
        }
        break;
      case 'busy':
        part.idle = undefined;
        break;
      case 'advanced':
        // An answer to an earlier round (a move cut short by a participant leaving) says nothing about this one.
        if (this.advancing?.round !== message.round) return;
        this.advancing.waiting.delete(part);
        if (this.advancing.waiting.size === 0) this.fire();
        return;
      case 'stuck':
        part.stuck = message.why;
        return;
      default:
        return;
    }
    this.step();
  }

  private sendPeers(): void {
    const ends = [...this.parts].flatMap((p) => p.listening);
    for (const part of this.parts) part.link.send({ t: 'peers', ends });
  }

  /** Moves time when everyone is idle and nothing is in flight between them. */
  private step(): void {
    // The runner's own process (this one) holding time is seen at once, not at its clock's next report: a report of
    // idle sent before the runner began resetting every participant must not let time move between two resets.
    if (!this.moving || this.advancing || timeHeld()) return;
    const parts = [...this.parts];
    if (parts.some((p) => !p.idle)) return;
    const { why, settled } = inFlight(parts, this.resolved);
    if (why !== undefined) return;
    // The earliest timer anywhere; ties by participant name, then by the order they were set.
    const due = parts
      .filter((p) => p.idle?.next)
      .map((p) => ({ owner: p, at: (p.idle?.next as [number, number])[0], seq: (p.idle?.next as [number, number])[1] }))
      .sort((a, b) => a.at - b.at || (a.owner.name < b.owner.name ? -1 : a.owner.name > b.owner.name ? 1 : 0) || a.seq - b.seq)[0];
    if (!due) return; // everyone waits on something that is not a timer (a request to come)
    // Closed connections both ends have seen: forgotten by their reporters, remembered here.
    for (const part of parts) {
      const ends = settled.get(part.name);
      if (!ends) continue;
      for (const end of ends) this.resolved.add(end);
      part.link.send({ t: 'forget', ends });
    }
    const { owner } = due;
    const to = Math.max(due.at, this.time);
    this.time = to;
    const behind = parts.filter((p) => p.at < to);
    this.advancing = { owner, at: due.at, round: ++this.round, waiting: new Set(behind) };
    this.lastMove = Date.now();
    for (const part of behind) {
      part.at = to;
      part.link.send({ t: 'advance', to, round: this.round });
    }
    if (behind.length === 0) this.fire();
  }

  private fire(): void {
    const advancing = this.advancing;
    if (!advancing) return;
    this.advancing = undefined;
    const { owner, at } = advancing;
    if (!this.parts.has(owner)) return this.step();
    owner.idle = undefined;
    owner.link.send({ t: 'fire', at });
  }

  private armWatchdog(): void {
    this.watchdog = this.clock.quiet.quietly(() =>
      setTimeout(() => {
        if (this.stopped) return;
        if (Date.now() - this.lastMove >= STUCK_AFTER_MS) {
          const why = this.whyNotMoving();
          if (why.length > 0) this.onFailure(`could not move for ${STUCK_AFTER_MS / 1000} s: ${why.join('; ')}`);
        }
        this.armWatchdog();
      }, STUCK_AFTER_MS).unref(),
    );
  }

  private whyNotMoving(): string[] {
    const parts = [...this.parts];
    const waiting = [...(this.advancing?.waiting ?? [])].map((p) => `${p.name} has not confirmed the move to ${this.advancing?.at} ms`);
    const busy = parts.filter((p) => !p.idle).map((p) => `${p.name}: ${p.stuck.join(', ') || 'busy'}`);
    const flight = busy.length === 0 && waiting.length === 0 ? inFlight(parts, this.resolved).why : undefined;
    return [...waiting, ...busy, ...(flight ? [flight] : [])];
  }
}
