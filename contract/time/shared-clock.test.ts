import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Coordinator, inFlight } from './coordinator.js';
import { warmUp } from './quiet.js';

const CHILD = fileURLToPath(new URL('./fixtures/clock-child.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

let coordinator: Coordinator | undefined;
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) {
    child.kill('SIGKILL');
    if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
  }
  await coordinator?.stop();
  coordinator = undefined;
});

/** A coordinator in this process and `names` child processes on its clock; resolves with their URLs. */
async function startShared(...names: string[]): Promise<{ coordinator: Coordinator; urls: string[]; address: string }> {
  await warmUp();
  const c = new Coordinator();
  coordinator = c;
  const address = await c.listen();
  const urls = await Promise.all(
    names.map(async (name) => {
      const child = spawn(process.execPath, ['--import', TSX, CHILD, address, name], { stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(child);
      const [line] = (await once(child.stdout as NodeJS.ReadableStream, 'data')) as [Buffer];
      await c.joined(name);
      return line.toString().trim();
    }),
  );
  c.start();
  return { coordinator: c, urls, address };
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

describe("the clock's port", () => {
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
  const idle = (listening: number[], crossings: { local: number; remote: number; written: number; read: number; closed?: boolean }[]) => ({
    listening,
    crossings: crossings.map((c) => ({ closed: false, ...c })),
  });

  it('balanced when each end read what the other wrote', () => {
    const parts = [
      { name: 'runner', idle: idle([], [{ local: 50_000, remote: 8080, written: 100, read: 300 }]) },
      { name: 'fake', idle: idle([8080], [{ local: 8080, remote: 50_000, written: 300, read: 100 }]) },
    ];
    expect(inFlight(parts)).toBeUndefined();
  });

  it('names bytes not read yet, a connection not accepted yet, and a close not seen', () => {
    expect(
      inFlight([
        { name: 'runner', idle: idle([], [{ local: 50_000, remote: 8080, written: 120, read: 300 }]) },
        { name: 'fake', idle: idle([8080], [{ local: 8080, remote: 50_000, written: 300, read: 100 }]) },
      ]),
    ).toBe('20 byte(s) from runner to fake not read yet');
    expect(inFlight([{ name: 'runner', idle: idle([], [{ local: 50_000, remote: 8080, written: 10, read: 0 }]) }, { name: 'fake', idle: idle([8080], []) }])).toMatch(/not accepted yet/);
    expect(
      inFlight([
        { name: 'agent', idle: idle([], [{ local: 50_001, remote: 8080, written: 10, read: 5, closed: true }]) },
        { name: 'fake', idle: idle([8080], [{ local: 8080, remote: 50_001, written: 5, read: 10 }]) },
      ]),
    ).toBe('fake has not yet seen agent close port 50001');
  });

  it('ignores servers outside (llama-server, Redis) and clients that are not participants', () => {
    expect(
      inFlight([
        { name: 'agent', idle: idle([9000], [{ local: 50_002, remote: 11434, written: 500, read: 0 }, { local: 9000, remote: 50_003, written: 0, read: 40 }]) },
      ]),
    ).toBeUndefined();
  });
});
