import { describe, expect, it } from 'vitest';
import { isAlive } from './processes.js';
import { healthy, startService } from './service.js';
import { StartError } from './start-error.js';

/** A node one-liner as a service. */
const node = (name: string, script: string) => ({ name, command: process.execPath, args: ['-e', script], cwd: process.cwd(), env: process.env });

/** Listens on a free port, prints its URL, answers /health with `status` after `delayMs`. */
const server = (status: number, delayMs = 0) => `
  const http = require('node:http');
  let ready = false;
  setTimeout(() => (ready = true), ${delayMs});
  const s = http.createServer((req, res) => { res.statusCode = ready ? ${status} : 503; res.end(); });
  s.listen(0, '127.0.0.1', () => console.log('URL=http://127.0.0.1:' + s.address().port));`;

const urlLine = (line: string) => /^URL=(\S+)$/.exec(line)?.[1];

describe('startService', () => {
  it('resolves once the service is healthy, and stop() ends it', async () => {
    const started = await startService(node('the test server', server(200, 200)), async (child) => {
      const url = await child.waitForLine(urlLine, 10_000);
      await healthy(child, url, `${url}/health`, { timeoutMs: 10_000 });
      return url;
    });
    expect((await fetch(`${started.url}/health`)).status).toBe(200);
    await started.child.stop();
    expect(isAlive(started.child.pid)).toBe(false);
  });

  it('fails with a StartError naming the service and carrying its last output when it exits first', async () => {
    const failure = startService(node('the test server', "console.log('no config here'); process.exit(2)"), async (child) => {
      await healthy(child, 'http://127.0.0.1:9', 'http://127.0.0.1:9/health', { timeoutMs: 10_000 });
      return '';
    });
    await expect(failure).rejects.toThrow(StartError);
    await expect(failure).rejects.toThrow(/^the test server on http:\/\/127\.0\.0\.1:9 exited with code 2 before it was healthy\nLast output:\n {2}\| no config here$/);
  });

  it('gives up after timeoutMs on a service that never gets healthy, and stops it', async () => {
    let pid = 0;
    const failure = startService(node('the test server', server(500)), async (child) => {
      pid = child.pid;
      const url = await child.waitForLine(urlLine, 10_000);
      await healthy(child, url, `${url}/health`, { timeoutMs: 300 });
      return url;
    });
    await expect(failure).rejects.toThrow(/the test server on http:\/\/127\.0\.0\.1:\d+ was not healthy after 300 ms/);
    expect(isAlive(pid)).toBe(false);
  });
});
