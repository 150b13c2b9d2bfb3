import { afterEach, describe, expect, it } from 'vitest';
import { Backlog } from './backlog.js';
import type { RunningFake } from './server.js';
import { fakeFor, KEY, MODEL_A, USER } from './testing.js';
import { connect, type Socket } from 'node:net';
import type { JournalEntry } from '../../contract/journal.js';

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('Backlog: receive first, answer after', () => {
  it('runs jobs in the order they were added, never inside add()', async () => {
    const backlog = new Backlog();
    const ran: number[] = [];
    for (const n of [1, 2, 3]) backlog.add(() => ran.push(n));
    expect(ran).toEqual([]);
    await turn();
    expect(ran).toEqual([1, 2, 3]);
    expect(backlog.waiting).toBe(0);
  });

  it('stops a slice once it has run sliceMs, so what arrived meanwhile runs before the rest', async () => {
    let ms = 0;
    // Each job takes 1 ms of this clock; slices of 2 ms run two jobs each (after a burst too, here).
    const backlog = new Backlog(2, () => ms, 2);
    const order: string[] = [];
    for (const n of [1, 2, 3, 4, 5]) {
      backlog.add(() => {
        ms += 1;
        order.push(`job ${n}`);
        // Work that came in while the slice ran (a request read, a timer's callback) goes ahead of job 3.
        if (n === 1) setImmediate(() => order.push('arrived meanwhile'));
      });
    }
    while (backlog.waiting > 0) await turn();
    expect(order).toEqual(['job 1', 'job 2', 'arrived meanwhile', 'job 3', 'job 4', 'job 5']);
  });

  it('runs a short slice right after jobs were added (a burst being read), a whole one once nothing new came', async () => {
    let ms = 0;
    // Jobs of 1 ms; whole slices 4 ms, after an add 1 ms.
    const backlog = new Backlog(4, () => ms, 1);
    const ran: number[] = [];
    for (const n of [1, 2, 3, 4, 5, 6]) {
      backlog.add(() => {
        ms += 1;
        ran.push(n);
      });
    }
    await turn();
    expect(ran).toEqual([1]);
    await turn();
    expect(ran).toEqual([1, 2, 3, 4, 5]);
    backlog.add(() => ran.push(7));
    await turn();
    // The new job came after the others: their turn first, and a short slice again (a request was read).
    expect(ran).toEqual([1, 2, 3, 4, 5, 6]);
    await turn();
    expect(ran).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('keeps bounded memory under steady load that never lets it drain (run jobs are let go, the array trimmed)', async () => {
    let ms = 0;
    // Each job takes a whole slice: one runs a turn, and one more is added every turn, so it never empties.
    const backlog = new Backlog(1, () => ms, 1);
    const job = () => {
      ms += 1;
    };
    backlog.add(job);
    backlog.add(job);
    for (let i = 0; i < 5_000; i++) {
      backlog.add(job);
      await turn();
    }
    expect(backlog.waiting).toBeGreaterThan(0);
    expect(backlog.slots).toBeLessThan(2_100);
  });
});

/** A keep-alive connection to the fake, opened before the burst. */
function connected(fake: RunningFake): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(fake.port, fake.host, () => resolve(socket));
    socket.once('error', reject);
  });
}

function chatRequest(fake: RunningFake): string {
  const body = JSON.stringify({ model: MODEL_A, messages: USER, stream: true });
  return `POST /api/v1/chat/completions HTTP/1.1\r\nHost: ${fake.host}:${fake.port}\r\nAuthorization: Bearer ${KEY}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

describe('a burst of chat requests', () => {
  let fake: RunningFake;
  const sockets: Socket[] = [];
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await fake.close();
  });

  it('is read (journaled, its arrival stamped) before the first of it is answered', async () => {
    fake = await fakeFor({ reply: { text: 'Paris.', ttft: '10s' } });
    const burst = 5;
    for (let i = 0; i < burst; i++) sockets.push(await connected(fake));
    const firstDecided = new Promise<number>((resolve) => {
      // `decided` is the route's: the request is being answered. How many had the journal by then?
      fake.events.once('decided', () => resolve(fake.journal().entries.length));
    });
    // Written in one go: on the loopback every request is in the fake's sockets before its next look at them.
    for (const s of sockets) s.write(chatRequest(fake));
    expect(await firstDecided).toBe(burst);
    const entries: JournalEntry[] = fake.journal().entries;
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
  });
});
