/**
 * `npm run scenario` on wall time (speed 10): `--json` prints exactly one object with the wall clock's timing,
 * `--report` writes the page, and the key is never printed. One rehearsal at a time on the machine (exclusive.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REHEARSAL_API_KEY } from '../../harness/stack/stack.js';
import { exclusive } from '../kit/exclusive.js';
import { tempDir } from '../kit/temp.js';
import { interruptRunners, startRunner } from './runner-process.js';

const dir = tempDir('cli-wall');
afterAll(interruptRunners);

describe('npm run scenario on wall time', () => {
  it('--json prints exactly one object, --report writes the page, and the key is never printed', { timeout: 90_000 }, async () => {
    const report = join(dir, 'calm-day.html');
    const { code, stdout, stderr } = await exclusive(() => startRunner(['calm-day', '--speed', '10', '--stack', 'processes', '--json', '--report', report]).exited);
    expect(code, stderr).toBe(0);
    const json = JSON.parse(stdout) as Record<string, unknown>;
    expect(Object.keys(json)).toEqual(['scenario', 'passed', 'speed', 'spoken', 'requests', 'failures', 'timing']);
    expect(json.timing).toEqual({ clock: 'wall', stallMs: expect.any(Number), explained: expect.any(Array) });
    expect(json).toMatchObject({ scenario: 'calm-day', passed: true, speed: 10, failures: [] });
    expect(json.spoken).toEqual([
      { text: 'Paris is the capital of France.', source: 'openrouter:meta-llama/llama-3.3-70b-instruct:free', start: expect.any(Number), end: expect.any(Number) },
      { text: 'Rome is the capital of Italy.', source: 'openrouter:meta-llama/llama-3.3-70b-instruct:free', start: expect.any(Number), end: expect.any(Number) },
    ]);
    expect(json.requests).toEqual([
      { at: expect.any(Number), model: 'meta-llama/llama-3.3-70b-instruct:free', outcome: '200' },
      { at: expect.any(Number), model: 'meta-llama/llama-3.3-70b-instruct:free', outcome: '200' },
    ]);
    expect(readFileSync(report, 'utf8')).toContain('<svg');
    expect(stdout + stderr + readFileSync(report, 'utf8')).not.toContain(REHEARSAL_API_KEY);
  });

});
