/** Free TCP ports on the loopback interface. */
import { createServer } from 'node:net';

/**
 * A port on 127.0.0.1 that nothing listens on right now (the kernel picks it; we release it at once).
 * Another process could take it before you bind it, so callers that bind should retry on EADDRINUSE.
 */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('could not get a free loopback port'))));
    });
  });
}
