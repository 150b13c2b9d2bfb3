import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/kit/temp.js';
import { tryLock } from './lock.js';

const scratch = tempDir('lock');

describe('the file lock', () => {
  it('lets one holder hold the lock and takes over a lock whose holder died', async () => {
    const lockDir = join(scratch, 'x.lock');
    const holder = spawn('sleep', ['60']);
    await once(holder, 'spawn');
    mkdirSync(lockDir);
    writeFileSync(join(lockDir, 'pid'), String(holder.pid));
    expect(await tryLock(lockDir)).toEqual({ acquired: false, holder: holder.pid });
    holder.kill('SIGKILL');
    await once(holder, 'exit');
    const lock = await tryLock(lockDir);
    expect(lock.acquired).toBe(true);
    if (lock.acquired) await lock.release();
  });
});
