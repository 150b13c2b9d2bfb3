import { describe, expect, it } from 'vitest';
import { SHORT_TIMER_MS } from '../../contract/time/quiet.js';
import { REDIS_DEADLINE_MS } from './shared-cooldowns.js';

describe('Redis on virtual time', () => {
  it("a Redis call's wall deadline is a short timer, which holds a virtual clock until Redis answers or it passes", () => {
    // quiet.ts counts a ref'd timer of at most SHORT_TIMER_MS as work in progress: that is what makes a command in
    // flight to Redis (a server outside, reached without fetch) hold the clock. A longer deadline would not.
    expect(REDIS_DEADLINE_MS).toBeLessThanOrEqual(SHORT_TIMER_MS);
  });
});
