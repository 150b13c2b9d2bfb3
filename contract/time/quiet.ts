/**
 * Is this process idle: nothing runnable, nothing in flight? A virtual clock may jump to its next timer only
 * then, or it would run a timer before work that a real clock would have let finish first.
 *
 * Idle means, at one instant checked twice in a row a full event-loop turn apart:
 * - no callback other than this check ran since the last look (async_hooks `before`: timers, I/O, immediates);
 * - no one-shot operation is outstanding (a file read, a DNS lookup, a connect, a socket write still queued:
 *   async_hooks resources that end in one callback);
 * - no short real timer is armed (LiveKit's `delay(0)` and other yields: a ref'd, non-repeating Timeout of at
 *   most SHORT_TIMER_MS). Longer real timers (a keep-alive, a test's timeout) are not work in progress;
 * - every TCP connection between two ends in this process is balanced: each end has read every byte the other
 *   wrote (`bytesRead` against `bytesWritten`), and neither end has closed alone. Bytes in the kernel between
 *   them are work the reader has not done yet;
 * - no HTTP request (fetch) to a server outside this process is open: a real server (llama-server) computes in
 *   wall time, and scenario time stands still until it has answered in full. One open longer than
 *   EXTERNAL_GRACE_MS of wall time stops counting, so a hung server cannot freeze the clock: then the caller's
 *   own deadlines run.
 *
 * Hand-written: no library answers "is a Node process quiescent"; @sinonjs/fake-timers and Jest's modern timers
 * leave I/O to the test, and Tokio's auto-advance has no Node counterpart.
 */
import { createHook, executionAsyncId, type AsyncHook } from 'node:async_hooks';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer } from 'node:http';
import { isIP, Server, Socket, type AddressInfo } from 'node:net';
import type { Crossing } from './crossings.js';
import { endpoint, portOf, reachableAt } from './endpoints.js';
import { timeHeld } from './held.js';

/** Resources that end in exactly one callback: while one exists, something is about to happen. */
const ONE_SHOT = new Set([
  'FSREQCALLBACK', 'FSREQPROMISE', 'FILEHANDLECLOSEREQ', 'GETADDRINFOREQWRAP', 'GETNAMEINFOREQWRAP', 'QUERYWRAP', 'TCPCONNECTWRAP',
  'PIPECONNECTWRAP', 'SHUTDOWNWRAP', 'WRITEWRAP', 'ZLIB', 'PBKDF2REQUEST', 'RANDOMBYTESREQUEST', 'SCRYPTREQUEST', 'KEYGENREQUEST',
  // Queued callbacks: a check that runs in the same microtask drain as the code that queued them must not
  // call the process idle before they ran.
  'TickObject', 'Immediate', 'Microtask',
]);
/**
 * Node's crypto jobs, which are also run synchronously (randomUUID, randomFillSync, pbkdf2Sync...): such a job is
 * done when its constructor's caller returns, yet no callback ever ends it, and its `destroy` waits for a garbage
 * collection. Only an asynchronous job gets an `ondone` (set right after it is made, before anything can look).
 * Without this, a randomUUID() at an agent's start (LiveKit's session ids) kept it busy until a GC happened to
 * run: seconds of a frozen clock on a process that had nothing else to do.
 */
const CRYPTO_JOBS = new Set(['RANDOMBYTESREQUEST', 'PBKDF2REQUEST', 'SCRYPTREQUEST', 'KEYGENREQUEST']);
export const SHORT_TIMER_MS = 50;
export const EXTERNAL_GRACE_MS = 10_000;
/** Consecutive quiet looks before the process counts as idle. */
const QUIET_LOOKS = 2;
/** After this many busy looks in a row, look once a millisecond instead of spinning (a slow disk, a real server). */
const SPIN_LOOKS = 200;

interface TimerLike {
  _idleTimeout?: number;
  _repeat?: unknown;
  hasRef?: () => boolean;
}

export class Quiet {
  private readonly pending = new Set<number>();
  /** Crypto jobs among `pending`, until it is known whether they run synchronously (see CRYPTO_JOBS). */
  private readonly cryptoJobs = new Map<number, { ondone?: unknown }>();
  private readonly shortTimers = new Map<number, TimerLike>();
  private readonly own = new Set<number>();
  /** Every resource but promises (their reactions run inside the callback that settled them). */
  private readonly live = new Set<number>();
  private activity = 0;
  private readonly waiters: (() => void)[] = [];
  private marking = false;
  /** Where the other processes sharing this clock listen ("addr:port", see shared-clock.ts): not "outside" servers. */
  private peers = new Set<string>();
  /** Origins (`http://fake:4010`) a request was seen to reach a peer or this process through: local by name too. */
  private readonly localOrigins = new Set<string>();
  private readonly hidden = new Set<number>();
  private readonly hook: AsyncHook;
  /** Every TCP socket opened or accepted since, until it closes (an idle keep-alive socket is unref'd, not gone). */
  private readonly sockets = new Map<Socket, { forget: () => void; connected?: () => void }>();
  /** Connections to other processes that closed since the coordinator last moved time (shared mode). */
  private closed: Crossing[] = [];
  private readonly onSocket = ({ socket }: { socket: Socket }) => {
    // A clock's own control link is not a connection whose bytes are work.
    if (this.sockets.has(socket) || this.marking || this.own.has(executionAsyncId())) return;
    // Node forgets a socket's ends once it closes: keep them from when they are known (a client's at connect).
    let ends = endsOf(socket);
    // Removed in close(): a pipe (stdout, an IPC channel) is a Socket that never connects, and every clock this
    // process starts would otherwise leave one more listener, and itself, on it.
    const connected = ends ? undefined : () => (ends = endsOf(socket));
    if (connected) socket.once('connect', connected);
    const forget = () => {
      this.sockets.delete(socket);
      // The other end must see this close (a client gone mid-stream) before time moves: kept until the
      // coordinator saw both ends closed (`forgetClosed`).
      if (this.shared && ends) this.closed.push({ ...ends, written: socket.bytesWritten, read: socket.bytesRead, closed: true });
    };
    this.sockets.set(socket, { forget, ...(connected && { connected }) });
    socket.once('close', forget);
  };
  /**
   * Open fetch requests, with their origin, the wall instant each began (outside ones count: see above) and, once
   * sent, the server end it went to: a name (`http://fake:4010` in a container) says nothing about where that is.
   */
  private readonly requests = new Map<object, { origin: string | undefined; began: number; server?: string }>();
  private readonly onRequest = ({ request }: { request: { origin?: string } }) => {
    this.requests.set(request, { origin: request.origin, began: Date.now() });
  };
  private readonly onRequestSent = ({ request, socket }: { request: object; socket: Socket }) => {
    const open = this.requests.get(request);
    if (open && socket.remoteAddress !== undefined && socket.remotePort !== undefined) open.server = endpoint(socket.remoteAddress, socket.remotePort);
  };
  private readonly onRequestDone = ({ request }: { request: object }) => {
    this.requests.delete(request);
  };

  /**
   * @param shared true when other processes share this clock (shared-clock.ts): connections whose other end
   *   is not here are reported (`crossings`) instead of waited on.
   */
  constructor(private readonly shared = false) {
    // Sockets already open (and ref'd) count too; the clock should still start before anything connects.
    for (const handle of activeHandles()) {
      if (handle instanceof Socket) this.onSocket({ socket: handle });
    }
    subscribe('net.client.socket', this.onSocket as (message: unknown) => void);
    subscribe('net.server.socket', this.onSocket as (message: unknown) => void);
    subscribe('undici:request:create', this.onRequest as (message: unknown) => void);
    subscribe(REQUEST_SENT, this.onRequestSent as (message: unknown) => void);
    for (const done of REQUEST_DONE) subscribe(done, this.onRequestDone as (message: unknown) => void);
    this.hook = createHook({
      init: (id, type, trigger, resource) => {
        if (type === 'PROMISE') return;
        this.live.add(id);
        // What this check (or a clock's control link) starts, and whatever that starts in turn, is not work.
        if (this.marking || this.own.has(trigger)) this.own.add(id);
        else if (ONE_SHOT.has(type)) {
          this.pending.add(id);
          if (CRYPTO_JOBS.has(type)) {
            // Every job made before this one is past its construction: the synchronous ones among them are done.
            this.forgetSyncJobs();
            this.cryptoJobs.set(id, resource as { ondone?: unknown });
          }
        }
        else if (type === 'Timeout') {
          const timer = resource as TimerLike;
          if ((timer._idleTimeout ?? Number.POSITIVE_INFINITY) <= SHORT_TIMER_MS && !timer._repeat) this.shortTimers.set(id, timer);
        }
      },
      before: (id) => {
        if (!this.live.has(id) || this.own.has(id)) return;
        this.activity++;
        this.pending.delete(id);
        this.cryptoJobs.delete(id);
        this.shortTimers.delete(id);
        // Resolving an existing promise queues its reactions; nothing asynchronous starts inside the hook.
        const waiters = this.waiters.splice(0);
        for (const wake of waiters) wake();
      },
      destroy: (id) => {
        this.live.delete(id);
        this.own.delete(id);
        this.pending.delete(id);
        this.cryptoJobs.delete(id);
        this.shortTimers.delete(id);
      },
    }).enable();
  }

  close(): void {
    this.hook.disable();
    unsubscribe('net.client.socket', this.onSocket as (message: unknown) => void);
    unsubscribe('net.server.socket', this.onSocket as (message: unknown) => void);
    unsubscribe('undici:request:create', this.onRequest as (message: unknown) => void);
    unsubscribe(REQUEST_SENT, this.onRequestSent as (message: unknown) => void);
    for (const done of REQUEST_DONE) unsubscribe(done, this.onRequestDone as (message: unknown) => void);
    for (const [socket, { forget, connected }] of this.sockets) {
      socket.off('close', forget);
      if (connected) socket.off('connect', connected);
    }
    this.sockets.clear();
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** Resolves once the process is idle (see above); rejects with the signal's reason when aborted. */
  async settled(signal?: AbortSignal): Promise<void> {
    let quietLooks = 0;
    let busyLooks = 0;
    let seen = this.activity;
    for (;;) {
      await this.look(busyLooks > SPIN_LOOKS);
      signal?.throwIfAborted();
      if (this.activity !== seen || this.busy()) {
        seen = this.activity;
        quietLooks = 0;
        busyLooks++;
        continue;
      }
      if (++quietLooks >= QUIET_LOOKS) return;
    }
  }

  /** What keeps the process busy right now, in words (for a rehearsal that never settles). */
  busyWith(): string[] {
    this.forgetSyncJobs();
    const why: string[] = [];
    if (this.pending.size > 0) why.push(`${this.pending.size} operation(s) outstanding`);
    if (this.shortTimerArmed()) why.push('a short timer armed');
    if (!balanced(this.sockets.keys(), this.endpoints(), this.shared)) why.push('bytes in flight between two local ends');
    if (this.waitingOnExternal()) why.push('a request to a server outside this process is open');
    if (timeHeld()) why.push('a call to a server outside this process (Redis) awaits its reply');
    return why;
  }

  private busy(): boolean {
    this.forgetSyncJobs();
    return this.pending.size > 0 || this.shortTimerArmed() || !balanced(this.sockets.keys(), this.endpoints(), this.shared) || this.waitingOnExternal() || timeHeld();
  }

  /** Crypto jobs that ran synchronously (no `ondone`): finished already, nothing will come of them. */
  private forgetSyncJobs(): void {
    for (const [id, job] of this.cryptoJobs) {
      if (job.ondone !== undefined) continue;
      this.pending.delete(id);
      this.cryptoJobs.delete(id);
    }
  }

  private shortTimerArmed(): boolean {
    for (const timer of this.shortTimers.values()) if (timer.hasRef?.() !== false) return true;
    return false;
  }

  private waitingOnExternal(): boolean {
    const since = Date.now() - EXTERNAL_GRACE_MS;
    const here = this.endpoints();
    const local = (end: string) => here.has(end) || this.peers.has(end);
    for (const { origin, began, server } of this.requests.values()) {
      if (server !== undefined && local(server)) {
        if (origin) this.localOrigins.add(origin);
        continue;
      }
      // Not sent yet (queued behind another request): its origin decides.
      if (began > since && !(server === undefined && origin !== undefined && (this.localOrigins.has(origin) || isLocalOrigin(origin, local)))) return true;
    }
    return false;
  }

  /** Runs `fn` as this check's own: what it starts (a clock's control messages, its timers) is not work. */
  quietly<T>(fn: () => T): T {
    const was = this.marking;
    this.marking = true;
    try {
      return fn();
    } finally {
      this.marking = was;
    }
  }

  /** Callbacks run so far (not this check's own). */
  get activityCount(): number {
    return this.activity;
  }

  /** Resolves at the first callback after `seen` callbacks (at once if it already ran); rejects when aborted. */
  activityAfter(seen: number, signal?: AbortSignal): Promise<void> {
    if (this.activity !== seen) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => reject(signal?.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }

  /** Where the other processes of a shared clock listen ("addr:port"). */
  setPeers(ends: Iterable<string>): void {
    this.peers = new Set(ends);
  }

  /** Not a server of this process's work: a clock's own control port (its clients are clocks, not work). */
  hidePort(port: number): void {
    this.hidden.add(port);
  }

  private endpoints(): Set<string> {
    return new Set([...localEndpoints()].filter((end) => !this.hidden.has(portOf(end))));
  }

  /** Where this process listens: "addr:port", a server on every interface at each of its addresses. */
  listening(): string[] {
    return [...this.endpoints()];
  }

  /**
   * Byte counts of every open TCP connection whose other end is not in this process, for a coordinator that
   * pairs them across processes (shared-clock.ts). The ones inside this process are judged here.
   */
  crossings(): Crossing[] {
    const sockets = [...this.sockets.keys()].filter((s) => !s.destroyed && endsOf(s));
    const ends = new Set(sockets.map((s) => pairKey(s)));
    const open = sockets
      .filter((s) => !ends.has(pairKey(s, true)))
      .map((s) => ({ ...(endsOf(s) as { local: string; remote: string }), written: s.bytesWritten, read: s.bytesRead, closed: false }));
    return [...open, ...this.closed];
  }

  /** Forgets closed connections (`local>remote`) whose other end the coordinator saw closed too. */
  forgetClosed(ends: readonly string[]): void {
    const gone = new Set(ends);
    this.closed = this.closed.filter((c) => !gone.has(`${c.local}>${c.remote}`));
  }

  /** One event-loop turn (or a millisecond when slow), on a timer or immediate marked as this check's own. */
  private look(slow: boolean): Promise<void> {
    return new Promise((resolve) => {
      this.marking = true;
      try {
        if (slow) setTimeout(resolve, 1);
        else setImmediate(resolve);
      } finally {
        this.marking = false;
      }
    });
  }
}

const REQUEST_DONE = ['undici:request:trailers', 'undici:request:error'];
/** undici's "headers written to this socket": where a request really went. */
const REQUEST_SENT = 'undici:client:sendHeaders';

/** Where this process listens ("addr:port"). */
function localEndpoints(): Set<string> {
  const ends = new Set<string>();
  for (const handle of activeHandles()) {
    // A server on a Unix socket or a pipe has no port, and no TCP peer to pair.
    const address = handle instanceof Server ? ((handle.address() ?? {}) as Partial<AddressInfo>) : {};
    if (typeof address.port === 'number' && address.address !== undefined) for (const end of reachableAt(address.address, address.port)) ends.add(end);
  }
  return ends;
}

/** A connected socket's two ends ("addr:port"), or undefined before it connects. */
function endsOf(socket: Socket): { local: string; remote: string } | undefined {
  const { localAddress, localPort, remoteAddress, remotePort } = socket;
  if (localAddress === undefined || localPort === undefined || remoteAddress === undefined || remotePort === undefined) return undefined;
  return { local: endpoint(localAddress, localPort), remote: endpoint(remoteAddress, remotePort) };
}

/** `local>remote` (or, reversed, the key its other end in this process would have). */
function pairKey(socket: Socket, reversed = false): string {
  const ends = endsOf(socket);
  if (!ends) return '';
  return reversed ? `${ends.remote}>${ends.local}` : `${ends.local}>${ends.remote}`;
}

/** Node's open handles (servers, sockets, timers): the one way to find those opened before a check began. */
function activeHandles(): unknown[] {
  return (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
}


/** `http://ADDRESS:PORT` where this process or a peer sharing its clock listens (`localhost` is 127.0.0.1). */
function isLocalOrigin(origin: string, local: (end: string) => boolean): boolean {
  try {
    const url = new URL(origin);
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    const host = url.hostname === 'localhost' ? '127.0.0.1' : url.hostname.replace(/^\[(.*)\]$/, '$1');
    return isIP(host) !== 0 && local(endpoint(host, port));
  } catch {
    return false;
  }
}

/**
 * Every connection between two ends in this process has each side's bytes read by the other, and no connection
 * to a server here waits to be accepted. A connection with its other end in another process is a coordinator's
 * to judge (`crossings`).
 */
function balanced(all: Iterable<Socket>, servers: Set<string>, shared: boolean): boolean {
  const sockets = [...all].filter((s) => !s.destroyed && endsOf(s));
  const byEnds = new Map(sockets.map((s) => [pairKey(s), s]));
  for (const socket of sockets) {
    const peer = byEnds.get(pairKey(socket, true));
    const ends = endsOf(socket) as { local: string; remote: string };
    if (peer) {
      if (peer.bytesRead !== socket.bytesWritten) return false;
    } else if (servers.has(ends.remote)) {
      return false; // a connection to a server of this process, not accepted yet
    } else if (!shared && servers.has(ends.local)) {
      return false; // alone on its clock, every client is here: this one closed and the server has not seen it
    }
  }
  return true;
}

/**
 * Makes Node's HTTP client ready before a virtual clock starts: the first request compiles undici's llhttp
 * (WebAssembly, on a V8 thread async_hooks cannot see), which would look like an idle process.
 */
export async function warmUp(): Promise<void> {
  const server = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await (await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`)).text();
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}
