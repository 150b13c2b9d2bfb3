import { createServer, type Server } from 'node:http';
import { Socket, type AddressInfo } from 'node:net';
import { channel } from 'node:diagnostics_channel';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AutoClock } from './auto-clock.js';
import { warmUp } from './quiet.js';

const servers: Server[] = [];
let clock: AutoClock | undefined;
afterEach(async () => {
  await clock?.stop();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

/** A server that answers after `ms` of scenario time, streaming `parts` chunks `gapMs` apart. */
async function slowServer(c: AutoClock, ms: number, parts = 1, gapMs = 0): Promise<string> {
  const server = createServer(async (_req, res) => {
    await c.sleep(ms);
    res.writeHead(200, { 'content-type': 'text/plain' });
    for (let i = 0; i < parts; i++) {
      if (i > 0) await c.sleep(gapMs);
      res.write(`${c.now()};`);
    }
    res.end();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('AutoClock', () => {
  beforeAll(warmUp);

  it('skips a minute of waiting across HTTP in well under a second, at exact instants', async () => {
    clock = new AutoClock().start();
    const url = await slowServer(clock, 60_000, 3, 250);
    const wall = Date.now();
    const body = await (await fetch(url)).text();
    expect(body).toBe('60000;60250;60500;');
    expect(clock.now()).toBe(60_500);
    expect(Date.now() - wall).toBeLessThan(1_000);
  });

  it('does not move while a response is on its way: a client timer 1 ms later fires after the body is read', async () => {
    clock = new AutoClock().start();
    const c = clock;
    const url = await slowServer(c, 1_000, 2, 0);
    const order: string[] = [];
    c.schedule(() => order.push(`client timer at ${c.now()}`), 1_001);
    const text = await (await fetch(url)).text();
    order.push(`body ${text} read at ${c.now()}`);
    await c.sleep(10);
    expect(order).toEqual(['body 1000;1000; read at 1000', 'client timer at 1001']);
  });

  it('fires timers due together in the order they were set, and identically run after run', async () => {
    const run = async () => {
      const c = new AutoClock().start();
      const seen: string[] = [];
      for (const [name, ms] of [['a', 300], ['b', 100], ['c', 300], ['d', 0]] as const) c.schedule(() => seen.push(`${name}@${c.now()}`), ms);
      await c.sleep(1_000);
      await c.stop();
      return seen;
    };
    const first = await run();
    expect(first).toEqual(['d@0', 'b@100', 'a@300', 'c@300']);
    expect(await run()).toEqual(first);
  });
});

describe('AutoClock, what goes wrong', () => {
  it('one clock moves time in a process: a second is refused until the first stops', async () => {
    const first = new AutoClock().start();
    expect(() => new AutoClock().start()).toThrow('another clock is already moving time in this process');
    await first.stop();
    const second = new AutoClock().start();
    await second.stop();
  });

  it('a NaN delay is now, not a clock stuck at NaN', async () => {
    const c = new AutoClock().start();
    const seen: number[] = [];
    c.schedule(() => seen.push(c.now()), Number.NaN);
    await c.sleep(5);
    expect(seen).toEqual([0]);
    expect(c.now()).toBe(5);
    await c.stop();
  });

  it('a stopped clock leaves no listener on a socket that never connects (a pipe: stdout, an IPC channel)', async () => {
    // A socket the clock saw before it connected, as `net.connect` announces every client socket; it never will.
    const never = new Socket();
    for (let run = 0; run < 12; run++) {
      const c = new AutoClock().start();
      channel('net.client.socket').publish({ socket: never });
      expect(never.listenerCount('connect')).toBe(1);
      await c.stop();
    }
    expect(never.listenerCount('connect')).toBe(0);
    expect(never.listenerCount('close')).toBe(0);
    never.destroy();
  });
});
