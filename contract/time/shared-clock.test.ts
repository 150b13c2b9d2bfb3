import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Coordinator } from './coordinator.js';
import { inFlight } from './crossings.js';
import { Quiet, warmUp } from './quiet.js';
import { clockChild, killChildren } from './fixtures/children.js';

let coordinator: Coordinator | undefined;
const children: ChildProcess[] = [];
afterEach(async () => {
  await killChildren(children);
  await coordinator?.stop();
  coordinator = undefined;
});

/** A coordinator in this process and `names` child processes on its clock; resolves with their URLs. */
async function startShared(...names: string[]): Promise<{ coordinator: Coordinator; urls: string[]; address: string; failures: string[] }> {
  await warmUp();
  const failures: string[] = [];
  const c = new Coordinator((why) => failures.push(why));
  coordinator = c;
  const address = await c.listen();
  const urls = await Promise.all(
    names.map(async (name) => {
      const child = clockChild(address, name, c.token);
      children.push(child);
      const [line] = (await once(child.stdout as NodeJS.ReadableStream, 'data')) as [Buffer];
      await c.joined(name);
      return line.toString().trim();
    }),
  );
  c.start();
  return { coordinator: c, urls, address, failures };
}

describe('one virtual time across processes', () => {
  it("a minute of another process's timer passes at once, and arrives exactly on time", async () => {
    const { coordinator: c, urls } = await startShared('child');
    const body = (await (await fetch(`${urls[0]}/wait?ms=60000`)).json()) as { now: number };
    expect(body.now).toBe(60_000);
    expect(c.clock.now()).toBe(60_000);
  });

  it('time does not move while a response is on its way: timers of both sides interleave in order', async () => {
    const { coordinator: c, urls } = await startShared('child');
    const seen: string[] = [];
    c.clock.schedule(() => seen.push(`runner ${c.clock.now()}`), 5_000);
    c.clock.schedule(() => seen.push(`runner ${c.clock.now()}`), 10_001);
    const response = await fetch(`${urls[0]}/stream?ms=2500&parts=4`);
    const text = await response.text();
    seen.push(`stream done at ${c.clock.now()}`);
    await c.clock.sleep(1);
    // The child wrote at 2.5, 5, 7.5 and 10 s; the runner's 10.001 s timer waited for the last part to arrive.
    expect(text.trim().split('\n').map(Number)).toEqual([2_500, 5_000, 7_500, 10_000]);
    expect(seen).toEqual(['runner 5000', 'stream done at 10000', 'runner 10001']);
  });

  it('two processes answer in the order of their timers, whatever the machine does', async () => {
    const { coordinator: c, urls } = await startShared('a', 'b');
    const order: string[] = [];
    await Promise.all([
      fetch(`${urls[0]}/wait?ms=3000`).then(async (r) => order.push(`a ${((await r.json()) as { now: number }).now}`)),
      fetch(`${urls[1]}/wait?ms=2000`).then(async (r) => order.push(`b ${((await r.json()) as { now: number }).now}`)),
    ]);
    expect(order).toEqual(['b 2000', 'a 3000']);
    expect(c.clock.now()).toBe(3_000);
  });
});

describe('hanging up across processes', () => {
  it('the server sees a client hang up at the instant it did, before time moves on', async () => {
    const { coordinator: c, urls } = await startShared('child');
    const hangUp = new AbortController();
    const response = await fetch(`${urls[0]}/stream?ms=1000&parts=5`, { signal: hangUp.signal });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    await reader.read(); // the first part, at 1 s
    hangUp.abort();
    await c.clock.sleep(10_000);
    expect(await (await fetch(`${urls[0]}/closes`)).json()).toEqual([1_000]);
  });

  it('a closed connection keeps its real ports in what the clock reports', async () => {
    const quiet = new Quiet(true);
    try {
      const { createServer } = await import('node:net');
      const server = createServer((socket) => socket.on('data', () => {}));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as { port: number }).port;
      const client = connect({ host: '127.0.0.1', port });
      await once(client, 'connect');
      const local = `127.0.0.1:${client.localPort}`;
      client.end('bye');
      await once(client, 'close');
      expect(quiet.crossings().filter((c) => c.closed && c.remote === `127.0.0.1:${port}`)).toEqual([{ local, remote: `127.0.0.1:${port}`, written: 3, read: 0, closed: true }]);
      server.close();
    } finally {
      quiet.close();
    }
  });
});

describe('participants that leave', () => {
  it('a participant that leaves is a failure of the rehearsal, and time still moves for the others', async () => {
    const { coordinator: c, urls, failures } = await startShared('a', 'b');
    const b = children[1] as ChildProcess;
    b.kill('SIGKILL');
    await once(b, 'exit');
    const body = (await (await fetch(`${urls[0]}/wait?ms=1000`)).json()) as { now: number };
    expect(body.now).toBe(1_000);
    expect(failures).toEqual(['b left the clock']);
    expect(c.clock.now()).toBe(1_000);
  });
});

describe("the clock's port", () => {
  it('refuses a participant without the run\'s secret, or with a name already taken', async () => {
    const { address } = await startShared('child');
    const [host, port] = address.split(':');
    for (const hello of [{ t: 'hello', name: 'intruder', token: 'guess' }, { t: 'hello', name: 'child', token: coordinator?.token }]) {
      const stray = connect({ host: host as string, port: Number(port) });
      stray.on('error', () => {});
      const closed = new Promise((resolve) => stray.once('close', resolve));
      stray.write(`${JSON.stringify(hello)}\n`);
      await closed;
    }
  });

  it('a client that never says who it is does not hold the runner open', async () => {
    const { coordinator: c, address } = await startShared('child');
    const [host, port] = address.split(':');
    const silent = connect({ host: host as string, port: Number(port) });
    silent.on('error', () => {});
    await once(silent, 'connect');
    const closed = new Promise((resolve) => silent.once('close', resolve));
    for (const child of children.splice(0)) child.kill('SIGKILL');
    await c.stop();
    coordinator = undefined;
    await closed;
  });

  it('closes on anything that is not a clock message, and time goes on', async () => {
    const { urls, address } = await startShared('child');
    const [host, port] = address.split(':');
    for (const garbage of ['null', '{"t":"idle","next":null,"listening":"all","crossings":[]}', '{"t":"hello"', 'x'.repeat(2 << 20)]) {
      const stray = connect({ host: host as string, port: Number(port) });
      stray.on('error', () => {}); // the reset when the coordinator closes on unread bytes
      const closed = new Promise((resolve) => stray.once('close', resolve));
      stray.write(`${garbage}\n`);
      await closed;
    }
    const body = (await (await fetch(`${urls[0]}/wait?ms=1000`)).json()) as { now: number };
    expect(body.now).toBe(1_000);
  });
});

describe('bytes in flight between participants (inFlight)', () => {
  const why = (parts: Parameters<typeof inFlight>[0]) => inFlight(parts).why;
  // On loopback, as the process stack: every end is 127.0.0.1 (crossings.test.ts pairs ends on several addresses).
  const at = (port: number) => `127.0.0.1:${port}`;
  const idle = (listening: number[], crossings: { local: number; remote: number; written: number; read: number; closed?: boolean }[]) => ({
    listening: listening.map(at),
    crossings: crossings.map((c) => ({ closed: false, ...c, local: at(c.local), remote: at(c.remote) })),
  });

  it('balanced when each end read what the other wrote', () => {
    const parts = [
      { name: 'runner', idle: idle([], [{ local: 50_000, remote: 8080, written: 100, read: 300 }]) },
      { name: 'fake', idle: idle([8080], [{ local: 8080, remote: 50_000, written: 300, read: 100 }]) },
    ];
    expect(why(parts)).toBeUndefined();
  });

  it('names bytes not read yet, a connection not accepted yet, and a close not seen', () => {
    expect(
      why([
        { name: 'runner', idle: idle([], [{ local: 50_000, remote: 8080, written: 120, read: 300 }]) },
        { name: 'fake', idle: idle([8080], [{ local: 8080, remote: 50_000, written: 300, read: 100 }]) },
      ]),
    ).toBe('20 byte(s) from runner to fake not read yet');
    expect(why([{ name: 'runner', idle: idle([], [{ local: 50_000, remote: 8080, written: 10, read: 0 }]) }, { name: 'fake', idle: idle([8080], []) }])).toMatch(/not accepted yet/);
    expect(
      why([
        { name: 'agent', idle: idle([], [{ local: 50_001, remote: 8080, written: 10, read: 5, closed: true }]) },
        { name: 'fake', idle: idle([8080], [{ local: 8080, remote: 50_001, written: 5, read: 10 }]) },
      ]),
    ).toBe('fake has not yet seen agent close its end (127.0.0.1:50001)');
    expect(why([{ name: 'agent', idle: idle([], [{ local: 50_001, remote: 8080, written: 10, read: 0, closed: true }]) }, { name: 'fake', idle: idle([8080], []) }])).toMatch(/not accepted yet/);
  });

  it('a connection closed on both ends is settled, and may be forgotten by both', () => {
    const { why: reason, settled } = inFlight([
      { name: 'agent', idle: idle([], [{ local: 50_001, remote: 8080, written: 10, read: 5, closed: true }]) },
      { name: 'fake', idle: idle([8080], [{ local: 8080, remote: 50_001, written: 5, read: 10, closed: true }]) },
    ]);
    expect(reason).toBeUndefined();
    expect(Object.fromEntries(settled)).toEqual({ agent: ['127.0.0.1:50001>127.0.0.1:8080'], fake: ['127.0.0.1:8080>127.0.0.1:50001'] });
    // Once the agent forgot its end, the fake's is still settled: the coordinator remembers.
    expect(inFlight([{ name: 'fake', idle: idle([8080], [{ local: 8080, remote: 50_001, written: 5, read: 10, closed: true }]) }], new Set(['127.0.0.1:8080>127.0.0.1:50001'])).why).toBeUndefined();
  });

  it('ignores servers outside (llama-server, Redis) and clients that are not participants', () => {
    expect(
      why([
        { name: 'agent', idle: idle([9000], [{ local: 50_002, remote: 11434, written: 500, read: 0 }, { local: 9000, remote: 50_003, written: 0, read: 40 }]) },
      ]),
    ).toBeUndefined();
  });
});
