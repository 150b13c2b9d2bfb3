/** Test helpers for network edges. */
import { createServer, type AddressInfo } from 'node:net';

/**
 * A loopback port with nothing listening: connecting is refused at once, as when the local server is down.
 * (Not a fixed low port: fetch refuses "bad ports" such as 9 before connecting, which is another failure.)
 */
export function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
