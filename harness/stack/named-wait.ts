/**
 * A Testcontainers wait strategy that names its container and shows its last output when it fails. Testcontainers
 * says only "Log stream ended and message ... was not received" (or a health check's timeout), then stops and removes
 * the container before the error reaches the runner, so its logs are gone by then: with ten agent containers the
 * failure named none and showed nothing. Read here, while the container still exists, and masked (`redact`).
 */
import type { WaitStrategy } from 'testcontainers';

type Container = Parameters<WaitStrategy['waitUntilReady']>[0];

export function namedWait(inner: WaitStrategy, name: string, redact: (line: string) => string): WaitStrategy {
  const named: WaitStrategy = {
    async waitUntilReady(container, boundPorts, startTime) {
      try {
        await inner.waitUntilReady(container, boundPorts, startTime);
      } catch (error) {
        const lines = await lastLines(container).catch(() => [] as string[]);
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

/** The container's last 20 lines, stdout and stderr as they came. */
async function lastLines(container: Container): Promise<string[]> {
  const raw = (await container.logs({ stdout: true, stderr: true, tail: 20, follow: false })) as unknown as Buffer;
  return demux(Buffer.from(raw))
    .split('\n')
    .filter((line) => line.trim() !== '');
}

/**
 * Docker's log stream for a container without a TTY: frames of an 8-byte header (stream, 3 zero bytes, a big-endian
 * length) and that many bytes. Anything that is not framed so is taken as plain text (a TTY's stream).
 */
export function demux(raw: Buffer): string {
  const parts: Buffer[] = [];
  let at = 0;
  while (at + 8 <= raw.length) {
    const stream = raw[at] as number;
    if (stream > 2 || raw[at + 1] !== 0 || raw[at + 2] !== 0 || raw[at + 3] !== 0) return raw.toString('utf8');
    const size = raw.readUInt32BE(at + 4);
    parts.push(raw.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
  if (at !== raw.length && parts.length === 0) return raw.toString('utf8');
  return Buffer.concat(parts).toString('utf8');
}
