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
import { createHook, type AsyncHook } from 'node:async_hooks';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer } from 'node:http';
import { Server, Socket, type AddressInfo } from 'node:net';

/** Resources that end in exactly one callback: while one exists, something is about to happen. */
const ONE_SHOT = new Set([
  'FSREQCALLBACK', 'FSREQPROMISE', 'FILEHANDLECLOSEREQ', 'GETADDRINFOREQWRAP', 'GETNAMEINFOREQWRAP', 'QUERYWRAP', 'TCPCONNECTWRAP',
  'PIPECONNECTWRAP', 'SHUTDOWNWRAP', 'WRITEWRAP', 'ZLIB', 'PBKDF2REQUEST', 'RANDOMBYTESREQUEST', 'SCRYPTREQUEST', 'KEYGENREQUEST',
  // Queued callbacks: a check that runs in the same microtask drain as the code that queued them must not
  // call the process idle before they ran.
  'TickObject', 'Immediate', 'Microtask',
]);
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
  private readonly shortTimers = new Map<number, TimerLike>();
  private readonly own = new Set<number>();
  /** Every resource but promises (their reactions run inside the callback that settled them). */
  private readonly live = new Set<number>();
  private activity = 0;
  private marking = false;
  private readonly hook: AsyncHook;
  /** Every TCP socket opened or accepted since, until it closes (an idle keep-alive socket is unref'd, not gone). */
  private readonly sockets = new Map<Socket, () => void>();
  private readonly onSocket = ({ socket }: { socket: Socket }) => {
    if (this.sockets.has(socket)) return;
    const forget = () => this.sockets.delete(socket);
    this.sockets.set(socket, forget);
    socket.once('close', forget);
  };
  /** Open fetch requests to servers outside this process, with the wall instant each began. */
  private readonly external = new Map<object, number>();
  private readonly onRequest = ({ request }: { request: { origin?: string } }) => {
    if (!isLocalOrigin(request.origin)) this.external.set(request, Date.now());
  };
  private readonly onRequestDone = ({ request }: { request: object }) => {
    this.external.delete(request);
  };

  constructor() {
    // Sockets already open (and ref'd) count too; the clock should still start before anything connects.
    for (const handle of (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles()) {
      if (handle instanceof Socket) this.onSocket({ socket: handle });
    }
    subscribe('net.client.socket', this.onSocket as (message: unknown) => void);
    subscribe('net.server.socket', this.onSocket as (message: unknown) => void);
    subscribe('undici:request:create', this.onRequest as (message: unknown) => void);
    for (const done of REQUEST_DONE) subscribe(done, this.onRequestDone as (message: unknown) => void);
    this.hook = createHook({
      init: (id, type, _trigger, resource) => {
        if (type === 'PROMISE') return;
        this.live.add(id);
        if (this.marking) this.own.add(id);
        else if (ONE_SHOT.has(type)) this.pending.add(id);
        else if (type === 'Timeout') {
          const timer = resource as TimerLike;
          if ((timer._idleTimeout ?? Number.POSITIVE_INFINITY) <= SHORT_TIMER_MS && !timer._repeat) this.shortTimers.set(id, timer);
        }
      },
      before: (id) => {
        if (!this.live.has(id) || this.own.has(id)) return;
        this.activity++;
        this.pending.delete(id);
        this.shortTimers.delete(id);
      },
      destroy: (id) => {
        this.live.delete(id);
        this.own.delete(id);
        this.pending.delete(id);
        this.shortTimers.delete(id);
      },
    }).enable();
  }

  close(): void {
    this.hook.disable();
    unsubscribe('net.client.socket', this.onSocket as (message: unknown) => void);
    unsubscribe('net.server.socket', this.onSocket as (message: unknown) => void);
    unsubscribe('undici:request:create', this.onRequest as (message: unknown) => void);
    for (const done of REQUEST_DONE) unsubscribe(done, this.onRequestDone as (message: unknown) => void);
    for (const [socket, forget] of this.sockets) socket.off('close', forget);
    this.sockets.clear();
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
    const why: string[] = [];
    if (this.pending.size > 0) why.push(`${this.pending.size} operation(s) outstanding`);
    if (this.shortTimerArmed()) why.push('a short timer armed');
    if (!balanced(this.sockets.keys())) why.push('bytes in flight between two local ends');
    if (this.waitingOnExternal()) why.push('a request to a server outside this process is open');
    return why;
  }

  private busy(): boolean {
    return this.pending.size > 0 || this.shortTimerArmed() || !balanced(this.sockets.keys()) || this.waitingOnExternal();
  }

  private shortTimerArmed(): boolean {
    for (const timer of this.shortTimers.values()) if (timer.hasRef?.() !== false) return true;
    return false;
  }

  private waitingOnExternal(): boolean {
    const since = Date.now() - EXTERNAL_GRACE_MS;
    return [...this.external.values()].some((began) => began > since);
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

/** Ports this process listens on. */
function localPorts(): Set<number> {
  const ports = new Set<number>();
  for (const handle of (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles()) {
    if (handle instanceof Server) ports.add(((handle.address() ?? {}) as AddressInfo).port);
  }
  return ports;
}

/** `http://127.0.0.1:PORT` where this process listens on PORT. */
function isLocalOrigin(origin: string | undefined): boolean {
  if (!origin) return false;
  try {
    const url = new URL(origin);
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    return ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname) && localPorts().has(port);
  } catch {
    return false;
  }
}

/** Every connection between two ends in this process has each side's bytes read by the other. */
function balanced(all: Iterable<Socket>): boolean {
  const ports = localPorts();
  const sockets = [...all].filter((s) => s.remotePort !== undefined && !s.destroyed);
  const byEnds = new Map(sockets.map((s) => [`${s.localPort}>${s.remotePort}`, s]));
  for (const socket of sockets) {
    const local = ports.has(socket.remotePort ?? -1) || ports.has(socket.localPort ?? -1);
    if (!local) continue;
    const peer = byEnds.get(`${socket.remotePort}>${socket.localPort}`);
    if (!peer || peer.bytesRead !== socket.bytesWritten) return false;
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
