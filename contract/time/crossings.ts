/**
 * Bytes in flight between processes on one virtual clock: each participant reports the byte counts of its ends
 * of TCP connections whose other end is not in its own process (quiet.ts `crossings`), and the coordinator pairs
 * them by their ends, address AND port ("addr:port", endpoints.ts): on loopback a port pair would do, but
 * containers each have their own address, and two of them may listen on the same port. Time may move only when every
 * connection between two participants is balanced; see `inFlight`.
 */

/** One end of a TCP connection, with what it wrote and read. */
export interface Crossing {
  /** This end, "addr:port". */
  local: string;
  /** The other end, "addr:port", as this end sees it (no proxy in between: it is that end's `local`). */
  remote: string;
  written: number;
  read: number;
  /** This end has closed: the other must have seen it. */
  closed: boolean;
}

export interface Reporter {
  name: string;
  /** `listening`: where it serves, "addr:port" (a server on every interface: at each of its addresses). */
  idle: { listening: string[]; crossings: Crossing[] } | undefined;
}

const key = (c: { local: string; remote: string }) => `${c.local}>${c.remote}`;
const reverse = (c: { local: string; remote: string }) => `${c.remote}>${c.local}`;

/**
 * Why some connection between two participants is not balanced (undefined when all are), and the closed ends
 * both of whose sides are closed (`settled`, per participant: they may be forgotten). Balanced: every byte one
 * end wrote has been read by the other; a connection to a participant's server has been accepted; a close on one
 * end has been seen (the other end closed too). `resolved` holds closed ends already settled, whose other side
 * may have been forgotten since.
 */
export function inFlight(parts: Reporter[], resolved: ReadonlySet<string> = new Set()): { why: string | undefined; settled: Map<string, string[]> } {
  const servers = new Set(parts.flatMap((p) => p.idle?.listening ?? []));
  const open = new Map<string, { name: string; end: Crossing }>();
  const closed = new Map<string, { name: string; end: Crossing }>();
  for (const p of parts) for (const end of p.idle?.crossings ?? []) (end.closed ? closed : open).set(key(end), { name: p.name, end });
  const settled = new Map<string, string[]>();
  const settle = (name: string, end: Crossing) => settled.set(name, [...(settled.get(name) ?? []), key(end)]);
  let why: string | undefined;
  for (const p of parts) {
    for (const end of p.idle?.crossings ?? []) {
      const mine = p.idle?.listening.includes(end.local) ?? false;
      const toServer = servers.has(end.remote);
      if (!mine && !toServer) {
        // A server outside (llama-server, Redis): not ours to judge; a closed one is not worth reporting again.
        if (end.closed) settle(p.name, end);
        continue;
      }
      const otherOpen = open.get(reverse(end));
      const otherClosed = closed.get(reverse(end));
      if (end.closed) {
        if (resolved.has(key(end)) || otherClosed || (mine && !otherOpen)) settle(p.name, end);
        else if (otherOpen) why ??= `${otherOpen.name} has not yet seen ${p.name} close its end (${end.local})`;
        else why ??= `${p.name} closed a connection to ${end.remote} that was not accepted yet`;
        continue;
      }
      if (otherOpen) {
        if (otherOpen.end.read !== end.written) why ??= `${end.written - otherOpen.end.read} byte(s) from ${p.name} to ${otherOpen.name} not read yet`;
      } else if (otherClosed) {
        why ??= `${p.name} has not yet seen ${otherClosed.name} close its end (${otherClosed.end.local})`;
      } else if (!mine) {
        why ??= `${p.name}'s connection to ${end.remote} is not accepted yet`;
      }
      // else: a client of this participant's server that is not a participant (a health check, curl): not ours.
    }
  }
  return { why, settled };
}
