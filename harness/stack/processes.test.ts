import { describe, expect, it } from 'vitest';
import { settleAll } from './processes.js';

describe('settleAll (starting a stack: the fake, Redis, N agents at once)', () => {
  it("goes up with the first failure, not a sibling's abort wrapped in the sibling's own output", async () => {
    const starting = new AbortController();
    // Call 1 is still starting: aborted, it rejects with the reason wrapped in its own last output (service.ts).
    const call1 = new Promise<string>((_, reject) =>
      starting.signal.addEventListener('abort', () => reject(new Error(`${(starting.signal.reason as Error).message}\nLast output:\n  | call-1 healthy line`)), { once: true }),
    );
    const call2 = Promise.resolve('call 2 up');
    const exited = new Error('the agent of call 3 exited with code 1 before it was ready\nLast output:\n  | call-3 FATAL bad config');
    const call3 = new Promise<string>((_, reject) => setImmediate(() => reject(exited)));
    const settled = settleAll<[string, string, string]>([call1, call2, call3], starting);
    await expect(settled).rejects.toBe(exited);
    expect(starting.signal.aborted).toBe(true);
  });

  it('resolves every start in order when none fails', async () => {
    const starting = new AbortController();
    await expect(settleAll<[number, string]>([Promise.resolve(1), Promise.resolve('two')], starting)).resolves.toEqual([1, 'two']);
    expect(starting.signal.aborted).toBe(false);
  });
});
