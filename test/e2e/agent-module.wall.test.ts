/**
 * `npm run scenario -- <name> --agent <module>`: the two example agents rehearsed end to end (the runner, the
 * fake and the agent as child processes), and a module that breaks the contract refused with its reason.
 * Both play at speed 1, the caller's own clock: FallbackAdapter keeps wall-clock time (its own timeouts and the
 * session's retries), and the holdline example is judged on the same clock beside it: one rehearsal at a time on
 * the machine (exclusive.ts), a neighbour's CPU would stretch the timeline. Modules refused before anything plays:
 * agent-module.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { exclusive } from '../kit/exclusive.js';
import { tempDir } from '../kit/temp.js';
import { interruptRunners, runnerJson } from './runner-process.js';

const dir = tempDir('agent-module');
afterEach(() => interruptRunners());

const A = 'meta-llama/llama-3.3-70b-instruct:free';

describe('rehearsing your own agent module', () => {
  it("an agent on holdline's chain holds, backs off and answers, on the rehearsal's clock", { timeout: 120_000 }, async () => {
    const { code, json, stderr } = await exclusive(() => runnerJson(['rate-limit-storm', '--agent', 'examples/agents/holdline-agent.ts']));
    // auto (the default) plays a module on processes even where an engine is ready: it runs from this machine's files.
    expect(stderr).toContain('· stack: --stack auto: child processes, because --agent runs your module');
    expect(json.failures).toEqual([]);
    expect(code).toBe(0);
    expect(json.spoken.map((s) => [s.source, s.text])).toEqual([
      ['hold', 'Hang on a sec.'],
      [`openrouter:${A}`, 'Paris is the capital of France.'],
    ]);
  });

  it('an agent on FallbackAdapter: the turn ends in silence, the timeline says so, and the verdict fails', { timeout: 120_000 }, async () => {
    const report = join(dir, 'timeline.html');
    const { code, json, stderr } = await exclusive(() => runnerJson(['rate-limit-storm', '--agent', 'examples/agents/fallback-agent.ts', '--report', report]));
    expect(code).toBe(1);
    expect(readFileSync(report, 'utf8')).toMatch(/silence: turn-1 ended with nothing said after \d/);
    expect(json.spoken).toEqual([]);
    expect(stderr).toMatch(/turn-1 ends in silence: the caller heard nothing/);
    expect(json.failures).toContain('spoken: expected 2 utterances, heard 0');
    // The adapter's recovery probes and the session's own retries: far more requests than holdline's chain.
    expect(json.requests.length).toBeGreaterThan(4);
    expect(new Set(json.requests.map((r) => r.outcome))).toEqual(new Set(['429']));
  });
});
