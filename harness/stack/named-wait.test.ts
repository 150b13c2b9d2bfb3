import { describe, expect, it } from 'vitest';
import type { WaitStrategy } from 'testcontainers';
import { namedWait } from './named-wait.js';

describe('a wait that names its container', () => {
  it("fails with the container's name and last lines, masked, read before Testcontainers removes it", async () => {
    const inner = { waitUntilReady: () => Promise.reject(new Error('Log stream ended and message "/listening/" was not received')) } as unknown as WaitStrategy;
    const lastOutput = () => Promise.resolve(['starting', 'RETRY_WINDOW_MS: got "soon" (key sk-or-v1-secret)']);
    const wait = namedWait(inner, 'agent-2', { lastOutput, redact: (line) => line.replaceAll('sk-or-v1-secret', '[redacted]') });
    await expect(wait.waitUntilReady({} as never, {} as never)).rejects.toThrow(
      'agent-2: Log stream ended and message "/listening/" was not received; its last output:\n  | starting\n  | RETRY_WINDOW_MS: got "soon" (key [redacted])',
    );
  });

  it('passes a ready container through, and the startup timeout to the wait it wraps', async () => {
    let timeout = 0;
    const inner = {
      waitUntilReady: () => Promise.resolve(),
      withStartupTimeout: (ms: number) => ((timeout = ms), inner),
      isStartupTimeoutSet: () => timeout > 0,
      getStartupTimeout: () => timeout,
    } as unknown as WaitStrategy;
    const wait = namedWait(inner, 'fake-1', { lastOutput: () => Promise.resolve([]), redact: (line) => line }).withStartupTimeout(300_000);
    await expect(wait.waitUntilReady({} as never, {} as never)).resolves.toBeUndefined();
    expect(wait.getStartupTimeout()).toBe(300_000);
  });
});
