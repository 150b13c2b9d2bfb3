/**
 * docker/when-listening.sh, the test rig's agent's wait for the fake (docker-compose.test.yml): on this machine's
 * bash, against a server on loopback, as in the container against the fake's address.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../harness/stack/services.js';

const SCRIPT = join(REPO_ROOT, 'docker/when-listening.sh');

/** A port nothing listens on yet: one the kernel gave a server that is closed again. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('docker/when-listening.sh', () => {
  it('runs the command only once the port accepts a connection, in its place (exec: its exit code)', async () => {
    const port = await freePort();
    const child = spawn('bash', [SCRIPT, '127.0.0.1', String(port), '--', process.execPath, '-e', "console.log('ran'); process.exit(7)"]);
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = once(child, 'close');
    // Listening only now: whatever the command printed before the script's first connection here would be too early.
    let atFirstConnection: string | undefined;
    const server = createServer((socket) => {
      atFirstConnection ??= output;
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    const [code] = await exited;
    server.close();
    expect(atFirstConnection).toBe('');
    expect(output).toBe('ran\n');
    expect(code).toBe(7);
  });

  it('says how to use it when the command is missing', async () => {
    const child = spawn('bash', [SCRIPT, 'fake', '4010']);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = await once(child, 'exit');
    expect(code).toBe(2);
    expect(stderr).toMatch(/usage: when-listening\.sh HOST PORT \[HOST PORT \.\.\.\] -- COMMAND/);
  });

  it('waits for every HOST PORT pair, in order, before the command', async () => {
    const [first, second] = [await freePort(), await freePort()];
    const child = spawn('bash', [SCRIPT, '127.0.0.1', String(first), '127.0.0.1', String(second), '--', process.execPath, '-e', "console.log('ran')"]);
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = once(child, 'close');
    const seen: string[] = [];
    const listen = (port: number, name: string) => {
      const server = createServer((socket) => {
        seen.push(`${name}:${output}`);
        socket.destroy();
        server.close();
      });
      return new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    };
    // The second listens first: the script still waits for the first, then checks the second, then runs.
    await listen(second, 'second');
    await listen(first, 'first');
    await exited;
    expect(seen).toEqual(['first:', 'second:']);
    expect(output).toBe('ran\n');
  });
});
