import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CHILD = fileURLToPath(new URL('./fixtures/when-gone-child.ts', import.meta.url));

/** A stand-in docker that writes its arguments to `ran` and exits. */
function fakeDocker(): { docker: string; ran: string } {
  const dir = mkdtempSync(join(tmpdir(), 'holdline-when-gone-'));
  const docker = join(dir, 'docker');
  const ran = join(dir, 'ran');
  writeFileSync(docker, `#!/bin/sh\necho "$*" > ${ran}.part && mv ${ran}.part ${ran}\n`);
  chmodSync(docker, 0o755);
  return { docker, ran };
}

/** Starts the runner stand-in and SIGKILLs it once it has guarded its project. */
async function killedRunner(docker: string, mode: 'hold' | 'release'): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, docker, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`the runner stand-in exited (${code}) before guarding`)));
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

describe('whenGone: a compose project taken down when the runner is gone', () => {
  it('takes the project down when the runner is killed without doing it (SIGKILL: no handler runs)', async () => {
    const { docker, ran } = fakeDocker();
    await killedRunner(docker, 'hold');
    await expect.poll(() => existsSync(ran), { timeout: 10_000 }).toBe(true);
    expect(readFileSync(ran, 'utf8').trim()).toBe('compose -p holdline-test down -v --timeout 2');
  });

  it('runs nothing once released (the runner took the project down itself)', async () => {
    const { docker, ran } = fakeDocker();
    await killedRunner(docker, 'release');
    // Nothing to wait on for something that must not happen: the guard of the test above acted within a second; a
    // second run of the same guard, held, shows when it would have.
    const { docker: control, ran: controlRan } = fakeDocker();
    await killedRunner(control, 'hold');
    await expect.poll(() => existsSync(controlRan), { timeout: 10_000 }).toBe(true);
    expect(existsSync(ran)).toBe(false);
  });
});
