import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { aptGet } from './apt.js';

/** An apt-get stand-in that answers each call with the next of `replies` ([exit code, stderr]) and logs its args. */
function fakeApt(replies: [number, string][]): { command: string; calls: () => string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'holdline-apt-'));
  const script = join(dir, 'apt-get');
  const log = join(dir, 'calls');
  writeFileSync(log, '');
  const cases = replies.map(([code, stderr], i) => `  ${i}) echo ${JSON.stringify(stderr)} >&2; exit ${code};;`).join('\n');
  writeFileSync(
    script,
    `#!/bin/sh\nn=$(wc -l < ${log})\necho "$*" >> ${log}\ncase $n in\n${cases}\n  *) exit 0;;\nesac\n`,
  );
  chmodSync(script, 0o755);
  return { command: script, calls: () => readFileSync(log, 'utf8').trim().split('\n') };
}

const noPause = () => Promise.resolve();

describe('aptGet', () => {
  it('waits out another apt holding its lock, then runs (dpkg waits itself; the lists lock is tried again)', async () => {
    const apt = fakeApt([
      [100, 'E: Could not get lock /var/lib/apt/lists/lock. It is held by process 5643 (apt-get)'],
      [100, 'E: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend), is another process using it?'],
      [0, ''],
    ]);
    const said: string[] = [];
    await aptGet(['update', '-q'], { command: apt.command, pause: noPause, onLine: (line) => said.push(line) });
    expect(apt.calls()).toEqual(Array(3).fill('-o DPkg::Lock::Timeout=600 update -q'));
    expect(said.filter((line) => line.startsWith('another apt holds its lock'))).toHaveLength(2);
  });

  it('fails at once, with apt\'s output, for anything but a lock', async () => {
    const apt = fakeApt([[100, 'E: Unable to locate package redis-servr']]);
    await expect(aptGet(['install', '-y', 'redis-servr'], { command: apt.command, pause: noPause })).rejects.toThrow(
      /`.*apt-get install -y redis-servr` exited with code 100\. Last output:\nE: Unable to locate package redis-servr/,
    );
    expect(apt.calls()).toHaveLength(1);
  });

  it('gives up on a lock held past the wait', async () => {
    const apt = fakeApt(Array(50).fill([100, 'E: Could not get lock /var/lib/dpkg/lock-frontend']));
    await expect(aptGet(['install', '-y', 'docker.io'], { command: apt.command, lockWaitMs: 0, pause: noPause })).rejects.toThrow(/Could not get lock/);
    expect(apt.calls()).toHaveLength(1);
  });
});
