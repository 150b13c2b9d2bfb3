/**
 * `npm run scenario` with a fleet on wall time: without Redis each of the three calls rediscovers the 429 and the
 * scenario's fleet-wide count fails, naming what the fleet spent. One rehearsal at a time (exclusive.ts).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { exclusive } from '../kit/exclusive.js';
import { interruptRunners, parsePids, startRunner } from './runner-process.js';
import { expectAllGone, PIDS, smallFleet } from './small-fleet.js';

const file = smallFleet();
afterAll(interruptRunners);

describe('npm run scenario with a fleet (calls: 3) on wall time', () => {
  it('without Redis each call rediscovers the 429: exit 1, the fleet-wide count says so; nothing is left running', { timeout: 240_000 }, async () => {
    const { code, stdout, stderr } = await exclusive(() => startRunner(['--file', file, '--stack', 'processes', '--speed', '1']).exited);
    expect(code, stderr).toBe(1);
    expect(stdout).toContain('requests to "openai/*": expected exactly 1 request, got 3');
    expect(stdout).toMatch(/^ {2}[\d.]+s +call 3 +caller: "What is the capital of France\?"$/m);
    expectAllGone(parsePids(PIDS.exec(stderr)?.[0] ?? ''));
  });
});
