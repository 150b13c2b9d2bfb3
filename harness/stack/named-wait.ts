/**
 * A Testcontainers wait strategy that names its container and shows its last output when it fails. Testcontainers
 * says only "Log stream ended and message ... was not received" (or a health check's timeout), then stops and removes
 * the container before the error reaches the runner, so its logs are gone by then: with ten agent containers the
 * failure named none and showed nothing. Read here (`lastOutput`), while the container still exists, and masked.
 */
import type { WaitStrategy } from 'testcontainers';

export type WaitedContainer = Parameters<WaitStrategy['waitUntilReady']>[0];

export interface WaitWords {
  /** The container's last lines, read while it still exists. */
  lastOutput: (container: WaitedContainer) => Promise<string[]>;
  /** Masks what no output shown may carry (secrets). */
  redact: (line: string) => string;
}

export function namedWait(inner: WaitStrategy, name: string, { lastOutput, redact }: WaitWords): WaitStrategy {
  const named: WaitStrategy = {
    async waitUntilReady(container, boundPorts, startTime) {
      try {
        await inner.waitUntilReady(container, boundPorts, startTime);
      } catch (error) {
        const lines = await lastOutput(container).catch(() => [] as string[]);
        const said = lines.length > 0 ? `; its last output:\n${lines.map((line) => `  | ${redact(line)}`).join('\n')}` : '';
        throw new Error(`${name}: ${(error as Error).message}${said}`, { cause: error });
      }
    },
    withStartupTimeout(ms) {
      inner.withStartupTimeout(ms);
      return named;
    },
    isStartupTimeoutSet: () => inner.isStartupTimeoutSet(),
    getStartupTimeout: () => inner.getStartupTimeout(),
  };
  return named;
}
