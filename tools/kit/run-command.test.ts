import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { isAlive } from './processes.js';
import { exec, have, probe, run } from './run-command.js';

describe('run', () => {
  it('resolves with stdout and streams every line', async () => {
    const lines: string[] = [];
    expect(await run('sh', ['-c', 'echo one; echo two >&2'], { onLine: (line) => lines.push(line) })).toBe('one\n');
    expect(lines.sort()).toEqual(['one', 'two']);
  });

  it('rejects naming the command, how it ended and its last output', async () => {
    const failure = run('sh', ['-c', 'for i in 1 2 3 4 5; do echo line $i; done; exit 3'], { tailLines: 2 });
    await expect(failure).rejects.toThrow("`sh -c for i in 1 2 3 4 5; do echo line $i; done; exit 3` exited with code 3. Last output:\nline 4\nline 5");
  });

  it('says when a command cannot run at all', async () => {
    await expect(run('/nonexistent/tool', ['x'])).rejects.toThrow(/`\/nonexistent\/tool x` could not run \(.*ENOENT/);
    expect(await probe('/nonexistent/tool', [])).toBeUndefined();
    expect(await have('sh')).toBe(true);
  });

  it('writes its input to stdin, from a string or a stream', async () => {
    expect(await run('cat', [], { input: 'typed' })).toBe('typed');
    expect(await run('cat', [], { input: Readable.from(['str', 'eamed']) })).toBe('streamed');
  });

  it('kills a command after timeoutMs', async () => {
    const result = await exec('sleep', ['30'], { timeoutMs: 100 });
    expect(result).toMatchObject({ code: null, signal: 'SIGKILL', timedOut: true });
    await expect(run('sleep', ['30'], { timeoutMs: 100 })).rejects.toThrow('`sleep 30` was killed after 0.1 s');
  });

  it('on abort kills the whole process group of a `group` command, grandchildren included, and rejects with the reason', async () => {
    const controller = new AbortController();
    let grandchild = 0;
    const running = run('sh', ['-c', 'sleep 60 & echo "background $!"; wait'], {
      group: true,
      signal: controller.signal,
      onLine: (line) => {
        grandchild = Number(/^background (\d+)$/.exec(line)?.[1] ?? grandchild);
        if (grandchild) controller.abort(new Error('stopped by the test'));
      },
    });
    await expect(running).rejects.toThrow('stopped by the test');
    expect(grandchild).toBeGreaterThan(0);
    await expect.poll(() => isAlive(grandchild), { timeout: 2_000 }).toBe(false);
  });
});
