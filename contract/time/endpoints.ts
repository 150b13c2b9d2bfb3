/**
 * One end of a TCP connection as the processes on one virtual clock name it: "address:port" ("[v6]:port").
 * On loopback a port alone names an end (one machine, one port space), which is all the process stack needs;
 * containers each have their own addresses, and two of them may both listen on 8080, so the coordinator pairs
 * ends by address AND port (crossings.ts).
 */
import { isIPv6 } from 'node:net';
import { networkInterfaces } from 'node:os';

/** `::ffff:172.18.0.3` (an IPv4 peer of a dual-stack socket) is 172.18.0.3: both ends must spell it alike. */
export function normaliseAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? (mapped[1] as string) : address.toLowerCase();
}

export function endpoint(address: string, port: number): string {
  const host = normaliseAddress(address);
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Where a server bound to `address` can be reached: itself, or, for the unspecified address (0.0.0.0, ::), every
 * address of this machine's (this container's) interfaces, loopback included. `::` takes IPv4 connections too.
 */
export function reachableAt(address: string, port: number, interfaces = ownAddresses()): string[] {
  const host = normaliseAddress(address);
  if (host === '0.0.0.0') return interfaces.filter((a) => !isIPv6(a)).map((a) => endpoint(a, port));
  if (host === '::') return interfaces.map((a) => endpoint(a, port));
  return [endpoint(host, port)];
}

/** Interfaces seldom change, and a busy process asks at every look: asked again after this many wall ms. */
const ADDRESSES_FOR_MS = 1_000;
let known: { at: number; addresses: string[] } | undefined;

/** This network namespace's addresses (IPv6 link-local ones carry a zone, which no peer would name: skipped). */
export function ownAddresses(): string[] {
  const now = Date.now();
  if (known && now - known.at < ADDRESSES_FOR_MS) return known.addresses;
  const addresses = Object.values(networkInterfaces())
    .flatMap((list) => list ?? [])
    .filter((i) => !(i.family === 'IPv6' && i.scopeid))
    .map((i) => normaliseAddress(i.address));
  known = { at: now, addresses };
  return addresses;
}

/** The port of "address:port". */
export function portOf(end: string): number {
  return Number(end.slice(end.lastIndexOf(':') + 1));
}
