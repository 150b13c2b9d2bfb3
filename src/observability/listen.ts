/**
 * An express app listening, or the reason it cannot. Express 5's `app.listen` calls its callback with the error
 * (EADDRINUSE, EACCES...) as well as emitting it: a callback that resolves on any call took a server that never
 * listened for a listening one, and the next `address()` threw a TypeError naming nothing (a taken HTTP_PORT or
 * rehearsal `--port` crashed that way).
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';

export function listen(app: Express, port: number, host: string): Promise<{ server: Server; port: number }> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, (error?: Error) => {
      if (error) reject(error);
      else resolve({ server, port: (server.address() as AddressInfo).port });
    });
  });
}
