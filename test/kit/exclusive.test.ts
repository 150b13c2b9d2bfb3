import { describe, expect, it } from 'vitest';
import { exclusive } from './exclusive.js';

// Under `npm test` the library's rehearsals hold the lock too: waiting for a couple of them is normal.
const WAIT = { timeout: 120_000 };

describe('exclusive', () => {
  it('runs one at a time, first come first served: a busy caller cannot jump the queue', WAIT, async () => {
    const order: string[] = [];
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const first = exclusive(async () => {
      await held;
      order.push('first');
    });
    const waiting = exclusive(async () => {
      order.push('waiting');
    });
    // The first caller comes back for more while the other waits: it queues behind it.
    const again = first.then(() => exclusive(async () => void order.push('again')));
    release();
    await Promise.all([first, waiting, again]);
    expect(order).toEqual(['first', 'waiting', 'again']);
  });

  it('releases the lock when the work fails', WAIT, async () => {
    await expect(exclusive(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await exclusive(async () => 'free again')).toBe('free again');
  });
});
