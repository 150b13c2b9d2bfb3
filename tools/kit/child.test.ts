import { describe, expect, it } from 'vitest';
import { isAlive } from './processes.js';
import { Child } from './child.js';

const sh = (script: string, redact?: (line: string) => string) =>
  Child.spawn({ name: 'the test child', command: 'sh', args: ['-c', script], cwd: process.cwd(), env: process.env, ...(redact && { redact }) });

describe('Child', () => {
  it("stops the child's whole process group, grandchildren included", async () => {
    const child = await sh('sleep 60 & echo "background $!"; wait');
    const grandchild = Number(await child.waitForLine((line) => /^background (\d+)$/.exec(line)?.[1], 10_000));
    expect(isAlive(child.pid) && isAlive(grandchild)).toBe(true);
    await child.stop();
    expect(isAlive(child.pid)).toBe(false);
    // The group kill is sent before stop() resolves; give the kernel a moment to reap.
    await expect.poll(() => isAlive(grandchild), { timeout: 2_000 }).toBe(false);
  });

  it('rejects a wait for a line when the child exits first, saying how', async () => {
    const child = await sh('echo starting; exit 3');
    await expect(child.waitForLine((line) => (line === 'ready' ? line : undefined), 10_000)).rejects.toThrow(
      'the test child exited with code 3 before it was ready',
    );
    expect(child.output()).toEqual(['starting']);
  });

  it('rejects a wait at once when its signal was aborted before it began (Ctrl-C during the set-up), not at the ready line', async () => {
    const child = await sh('sleep 60'); // never prints its ready line
    const interrupted = new AbortController();
    interrupted.abort(new Error('interrupted'));
    await expect(child.waitForLine((line) => line, 60_000, interrupted.signal)).rejects.toThrow('interrupted');
    await child.stop();
  });

  it('masks secrets in what it keeps and passes on', async () => {
    const child = await sh('echo "key=sk-or-v1-secret"; sleep 5', (line) => line.replaceAll('sk-or-v1-secret', '[redacted]'));
    expect(await child.waitForLine((line) => (line.startsWith('key=') ? line : undefined), 10_000)).toBe('key=[redacted]');
    await child.stop();
    expect(child.output().join('\n')).not.toContain('sk-or-v1-secret');
  });

  it('refuses a command that cannot start', async () => {
    await expect(Child.spawn({ name: 'nothing', command: '/nonexistent/bin', args: [], cwd: process.cwd(), env: process.env })).rejects.toThrow(
      /could not start nothing/,
    );
  });
});
