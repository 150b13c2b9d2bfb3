/**
 * The coordinator of a shared virtual time (see shared-clock.ts): it runs in the runner's process, which is a
 * participant too (its player waits on scenario instants), and accepts the other processes' clocks on a
 * loopback port. It moves time only when every participant is idle and every connection between two of them
 * is balanced, to the earliest timer of any: ties go by participant name, then by the order they were set,
 * so the same rehearsal takes the same steps on any machine.
 */
import { createServer, type Server } from 'node:net';
import { STUCK_AFTER_MS } from './auto-clock.js';
import { localLinks, socketLink, toCoordinator, type Link, type Next, type ToCoordinator, type ToParticipant } from './link.js';
import type { Crossing } from './quiet.js';
import { SharedClock } from './shared-clock.js';

interface Participant {
  name: string;
  link: Link<ToParticipant, ToCoordinator>;
  /** Its last idle report, or undefined while it works. */
  idle: { next: Next; listening: number[]; crossings: Crossing[] } | undefined;
  /** Internal scenario ms its clock stands at. */
  at: number;
  /** Ports it listens on, from its last idle report (kept while it works). */
  listening: number[];
  stuck: string[];
}

export class Coordinator {
  readonly clock: SharedClock;
  private readonly parts = new Set<Participant>();
  private readonly joinWaiters = new Map<string, () => void>();
  private server: Server | undefined;
  private moving = false;
  /** Internal scenario ms: where every participant's clock stands once told. */
  private time = 0;
  private advancing: { owner: Participant; at: number; waiting: Set<Participant> } | undefined;
  private lastMove = Date.now();
  private watchdog: NodeJS.Timeout | undefined;
  private stopped = false;

  /** @param onStuck called when time could not move for STUCK_AFTER_MS of wall time, with what keeps it. */
  constructor(private readonly onStuck: (why: string[]) => void = () => {}) {
    this.clock = new SharedClock('runner');
    const [coordinatorEnd, clockEnd] = localLinks<ToParticipant, ToCoordinator>(this.clock.quiet);
    this.accept(coordinatorEnd);
    this.clock.attach(clockEnd);
  }

  /** Listens for the other processes' clocks; resolves with the address to give them (`--clock`). */
  async listen(): Promise<string> {
    const quiet = this.clock.quiet;
    const server = quiet.quietly(() => createServer((socket) => this.accept(socketLink(socket, quiet, toCoordinator))));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      quiet.quietly(() => server.listen(0, '127.0.0.1', resolve));
    });
    const address = server.address();
    if (!address || typeof address === 'string') throw new Error('the virtual clock did not get a port');
    return `127.0.0.1:${address.port}`;
  }

  /** Resolves when a participant called `name` has joined. */
  joined(name: string): Promise<void> {
    if ([...this.parts].some((p) => p.name === name)) return Promise.resolve();
    return new Promise((resolve) => this.joinWaiters.set(name, resolve));
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
    clearTimeout(this.watchdog);
    await this.clock.stop();
    for (const part of this.parts) part.link.close();
    const server = this.server;
    if (server) await new Promise((resolve) => server.close(resolve));
  }

  private accept(link: Link<ToParticipant, ToCoordinator>): void {
    let part: Participant | undefined;
    link.onMessage((message) => {
      if (message.t === 'hello') {
        if (part) return;
        part = { name: message.name, link, idle: undefined, at: this.time, listening: [], stuck: [] };
        this.parts.add(part);
        // A late joiner starts at the current instant, like everyone.
        link.send({ t: 'advance', to: part.at });
        this.sendPeers();
        this.joinWaiters.get(part.name)?.();
        return;
      }
      if (part) this.receive(part, message);
    });
    link.onClose(() => {
      if (!part) return;
      this.parts.delete(part);
      this.advancing?.waiting.delete(part);
      if (this.advancing?.owner === part) this.advancing = undefined;
      this.step();
    });
  }

  private receive(part: Participant, message: ToCoordinator): void {
    switch (message.t) {
      case 'idle':
        part.idle = { next: message.next, listening: message.listening, crossings: message.crossings };
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
        this.advancing?.waiting.delete(part);
        if (this.advancing && this.advancing.waiting.size === 0) this.fire();
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
    const ports = [...this.parts].flatMap((p) => p.listening);
    for (const part of this.parts) part.link.send({ t: 'peers', ports });
  }

  /** Moves time when everyone is idle and nothing is in flight between them. */
  private step(): void {
    if (!this.moving || this.advancing) return;
    const parts = [...this.parts];
    if (parts.some((p) => !p.idle) || inFlight(parts) !== undefined) return;
    // The earliest timer anywhere; ties by participant name, then by the order they were set.
    const due = parts
      .filter((p) => p.idle?.next)
      .map((p) => ({ owner: p, at: (p.idle?.next as [number, number])[0], seq: (p.idle?.next as [number, number])[1] }))
      .sort((a, b) => a.at - b.at || (a.owner.name < b.owner.name ? -1 : a.owner.name > b.owner.name ? 1 : 0) || a.seq - b.seq)[0];
    if (!due) return; // everyone waits on something that is not a timer (a request to come)
    const { owner } = due;
    const to = Math.max(due.at, this.time);
    this.time = to;
    const behind = parts.filter((p) => p.at < to);
    this.advancing = { owner, at: due.at, waiting: new Set(behind) };
    this.lastMove = Date.now();
    for (const part of behind) {
      part.at = to;
      part.link.send({ t: 'advance', to });
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
          if (why.length > 0) this.onStuck(why);
        }
        this.armWatchdog();
      }, STUCK_AFTER_MS).unref(),
    );
  }

  private whyNotMoving(): string[] {
    const parts = [...this.parts];
    const busy = parts.filter((p) => !p.idle).map((p) => `${p.name}: ${p.stuck.join(', ') || 'busy'}`);
    const flight = busy.length === 0 ? inFlight(parts) : undefined;
    return flight ? [...busy, flight] : busy;
  }
}

/**
 * Why some connection between two participants is not balanced, or undefined when all are: every byte one
 * end wrote has been read by the other, a connection to a participant's server has been accepted, and a close
 * on one end has been seen by the other.
 */
export function inFlight(parts: { name: string; idle: { listening: number[]; crossings: Crossing[] } | undefined }[]): string | undefined {
  const servers = new Set(parts.flatMap((p) => p.idle?.listening ?? []));
  const open = new Map<string, { name: string; end: Crossing }>();
  for (const p of parts) for (const end of p.idle?.crossings ?? []) if (!end.closed) open.set(`${end.local}>${end.remote}`, { name: p.name, end });
  for (const p of parts) {
    for (const end of p.idle?.crossings ?? []) {
      const mine = p.idle?.listening.includes(end.local) ?? false;
      if (!mine && !servers.has(end.remote)) continue; // a server outside (llama-server, Redis)
      const other = open.get(`${end.remote}>${end.local}`);
      if (end.closed) {
        if (other) return `${other.name} has not yet seen ${p.name} close port ${end.local}`;
        continue;
      }
      if (!other) {
        // A client of this participant's server that is not a participant (a health check, curl): not ours.
        if (mine) continue;
        return `${p.name}'s connection to port ${end.remote} is not accepted yet, or its close not seen`;
      }
      if (other.end.read !== end.written) return `${end.written - other.end.read} byte(s) from ${p.name} to ${other.name} not read yet`;
    }
  }
  return undefined;
}
