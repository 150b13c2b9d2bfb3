import { describe, expect, it } from 'vitest';
import { AutoClock } from './auto-clock.js';
import { holdTime, timeHeld } from './held.js';

describe('a call to a server outside on virtual time (Redis)', () => {
  it('a call in flight holds a clock that skips idle time: its timers wait for the reply', async () => {
    const clock = new AutoClock().start();
    try {
      const release = holdTime();
      expect(timeHeld()).toBe(true);
      const order: string[] = [];
      const timer = clock.sleep(1_000).then(() => order.push('timer'));
      // The reply comes after a wall-time wait the clock cannot see (a real Redis, a busy machine).
      await new Promise((resolve) => setTimeout(resolve, 200).unref());
      order.push('reply');
      release();
      await timer;
      expect(order).toEqual(['reply', 'timer']);
      expect(timeHeld()).toBe(false);
    } finally {
      await clock.stop();
    }
  });

});
