/**
 * The control link between a SharedClock and its coordinator: newline-delimited JSON over a loopback TCP
 * connection (another process, maybe in a container), or handed over on the next turn of the loop (the coordinator's own process).
 * Everything a link does runs as its Quiet's own (quiet.ts), so control messages are never taken for work.
 */
import { Socket } from 'node:net';
import { z } from 'zod';
import type { Crossing } from './crossings.js';
import type { Quiet } from './quiet.js';

/** A participant's next timer: due instant and the order it was set in. */
export type Next = [at: number, seq: number] | null;

export type ToCoordinator =
  /** `token`: the run's secret, from the coordinator (HOLDLINE_CLOCK_TOKEN): another local user cannot join. */
  | { t: 'hello'; name: string; token: string }
  /** Idle: nothing runs or is in flight here; `crossings` are the connections whose other end is elsewhere. */
  | { t: 'idle'; next: Next; listening: string[]; crossings: Crossing[] }
  | { t: 'busy' }
  | { t: 'advanced'; round: number }
  /** Busy for a long while, and why (quiet.ts `busyWith`). */
  | { t: 'stuck'; why: string[] };

export type ToParticipant =
  /** Scenario time is now `to` (internal ms, not since a reset); answer `advanced` with the round. */
  | { t: 'advance'; to: number; round: number }
  /** Run the earliest timer if it is due by `at`. */
  | { t: 'fire'; at: number }
  /** Where the other participants listen ("addr:port"). */
  | { t: 'peers'; ends: string[] }
  /** Closed connection ends (`local>remote`) whose other side closed too: no longer worth reporting. */
  | { t: 'forget'; ends: string[] };

/** "addr:port" (endpoints.ts): an IPv4 address, or an IPv6 one in brackets, and a port. */
const end = z.string().max(80).regex(/^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-f:.]+\]):\d{1,5}$/);
const crossing = z.object({ local: end, remote: end, written: z.number().nonnegative(), read: z.number().nonnegative(), closed: z.boolean() });
const next = z.tuple([z.number().finite(), z.number().int()]).nullable();

/** What a coordinator accepts from a participant: anything else closes the link (a stray client, a bug). */
export const toCoordinator: z.ZodType<ToCoordinator> = z.discriminatedUnion('t', [
  z.object({ t: z.literal('hello'), name: z.string().min(1).max(100), token: z.string().max(200) }),
  z.object({ t: z.literal('idle'), next, listening: z.array(end).max(1_000), crossings: z.array(crossing).max(100_000) }),
  z.object({ t: z.literal('busy') }),
  z.object({ t: z.literal('advanced'), round: z.number().int() }),
  z.object({ t: z.literal('stuck'), why: z.array(z.string().max(1_000)).max(100) }),
]);

/** What a participant accepts from its coordinator. */
export const toParticipant: z.ZodType<ToParticipant> = z.discriminatedUnion('t', [
  z.object({ t: z.literal('advance'), to: z.number().finite(), round: z.number().int() }),
  z.object({ t: z.literal('fire'), at: z.number().finite() }),
  z.object({ t: z.literal('peers'), ends: z.array(end).max(10_000) }),
  z.object({ t: z.literal('forget'), ends: z.array(z.string().max(170)).max(100_000) }),
]);

export interface Link<Out, In> {
  send(message: Out): void;
  onMessage(handler: (message: In) => void): void;
  onClose(handler: () => void): void;
  close(): void;
}

/** Cap on one control message: they are small; a peer that sends more is not a clock. */
const MAX_LINE = 1 << 20;

export function socketLink<Out, In>(socket: Socket, quiet: Quiet, schema: z.ZodType<In>): Link<Out, In> {
  let buffer = '';
  let handler: (message: In) => void = () => {};
  const closers: (() => void)[] = [];
  socket.setEncoding('utf8');
  socket.setNoDelay(true);
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    if (buffer.length > MAX_LINE && !buffer.includes('\n')) socket.destroy(new Error('control message too long'));
    let end: number;
    while ((end = buffer.indexOf('\n')) !== -1) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 1);
      let message: In;
      try {
        message = schema.parse(JSON.parse(line));
      } catch {
        socket.destroy();
        return;
      }
      handler(message);
    }
  });
  socket.on('error', () => {});
  socket.on('close', () => closers.forEach((close) => close()));
  return {
    send: (message) => quiet.quietly(() => socket.write(`${JSON.stringify(message)}\n`)),
    onMessage: (h) => (handler = h),
    onClose: (h) => closers.push(h),
    close: () => quiet.quietly(() => socket.destroy()),
  };
}

/** Two ends in one process: each message arrives on a later turn of the loop, as over a socket. */
export function localLinks<A, B>(quiet: Quiet): [Link<A, B>, Link<B, A>] {
  const handlers: { a: (m: B) => void; b: (m: A) => void } = { a: () => {}, b: () => {} };
  const closers: (() => void)[] = [];
  let open = true;
  const deliver = (fn: () => void) => quiet.quietly(() => setImmediate(() => open && fn()));
  const close = () => {
    if (!open) return;
    open = false;
    closers.forEach((c) => c());
  };
  return [
    { send: (m) => deliver(() => handlers.b(m)), onMessage: (h) => (handlers.a = h), onClose: (h) => closers.push(h), close },
    { send: (m) => deliver(() => handlers.a(m)), onMessage: (h) => (handlers.b = h), onClose: (h) => closers.push(h), close },
  ];
}

/**
 * Why `value` is not a coordinator's address (`--clock HOST:PORT`), or undefined when it is. HOST is an IPv4
 * address (127.0.0.1 for processes on this machine) or a host name: in a container, `holdline-clock`, which the
 * compose override maps to the engine host (compose-override.ts), since the host's loopback is not the container's.
 */
export function clockAddressProblem(value: string): string | undefined {
  const match = /^(\d{1,3}(?:\.\d{1,3}){3}|[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?):(\d{1,5})$/i.exec(value);
  const port = Number(match?.[2]);
  if (match && port > 0 && port <= 65_535) return undefined;
  return `--clock: expected the virtual clock's address, HOST:PORT (127.0.0.1:PORT on this machine), got ${JSON.stringify(value.slice(0, 60))}`;
}
