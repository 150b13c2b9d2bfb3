import { describe, expect, it } from 'vitest';
import type { SpokenExpectation } from '../../contract/scenario/schema.js';
import { explanation, latenessBefore, type Lateness } from './lateness.js';
import { checkSpoken, type Heard } from './spoken.js';

const META = 'openrouter:meta-llama/llama-3.3-70b-instruct:free';
const heard = (text: string, source: string, start: number, interrupted = false): Heard => ({ text, source, start, end: start + 1000, interrupted });
const hold: SpokenExpectation = { text: 'Hang on a sec.', source: 'hold', startMs: [0, 1000] };
const paris: SpokenExpectation = { text: 'Paris is the capital of France.', source: META, startMs: [8000, 10_000] };

describe('checkSpoken', () => {
  it('passes the exact sequence, texts compared after whitespace is normalised', () => {
    expect(checkSpoken([hold, paris], [heard('Hang on a sec.', 'hold', 120), heard('  Paris is the\ncapital of  France. ', META, 8400)])).toEqual([]);
  });

  it('names the position, what was expected and what was heard', () => {
    const apology = heard("Sorry, I can't answer that right now.", 'apology', 61_234);
    expect(checkSpoken([hold, paris], [heard('Hang on a sec.', 'hold', 120), apology])).toEqual([
      `spoken[1]: expected "Paris is the capital of France." from ${META} starting 8s..10s, heard "Sorry, I can't answer that right now." from apology at 61.23s`,
    ]);
  });

  it('checks the source and the start window only when given', () => {
    const loose: SpokenExpectation = { text: 'Hang on a sec.' };
    expect(checkSpoken([loose], [heard('Hang on a sec.', 'apology', 50_000)])).toEqual([]);
    expect(checkSpoken([hold], [heard('Hang on a sec.', 'apology', 500)])).toHaveLength(1);
    expect(checkSpoken([hold], [heard('Hang on a sec.', 'hold', 1001)])).toHaveLength(1);
    expect(checkSpoken([hold], [heard('Hang on a sec.', 'hold', 1000)])).toEqual([]);
  });

  it('reports a count mismatch, and each missing or extra utterance', () => {
    expect(checkSpoken([hold], [heard('Hang on a sec.', 'hold', 100), heard('Again.', META, 3000, true)])).toEqual([
      'spoken: expected 1 utterance, heard 2',
      `spoken[1]: expected nothing more, heard "Again." from ${META} at 3s (cut off)`,
    ]);
    expect(checkSpoken([hold, paris], [])).toEqual([
      'spoken: expected 2 utterances, heard 0',
      'spoken[0]: expected "Hang on a sec." from hold starting 0ms..1s, heard nothing',
      `spoken[1]: expected "Paris is the capital of France." from ${META} starting 8s..10s, heard nothing`,
    ]);
  });
});

describe('checkSpoken with the machine\'s measured lateness', () => {
  // Speed 10, scenario time 0 at wall 1_000_000; the caller spoke at 0 s and at 20 s.
  const machine = (stalls: [number, number][]): Lateness => ({ speed: 10, originEpochMs: 1_000_000, reports: [{ id: 'agent', stalls }], turnsAtMs: [0, 20_000] });
  const allowance = (lateness: Lateness) => {
    const explained: string[] = [];
    return { explained, latenessBefore: (start: number) => latenessBefore(lateness, start), describe: (miss: number, by: number) => explanation(miss, by, 10) };
  };

  it('passes a late utterance when the stalls since the caller\'s turn explain the miss, and says so', () => {
    // 30 wall ms stalled at wall 1_000_500 (scenario 5 s): 0.3 s of scenario time.
    const a = allowance(machine([[1_000_500, 30]]));
    expect(checkSpoken([paris], [heard('Paris is the capital of France.', META, 10_250)], a)).toEqual([]);
    expect(a.explained).toEqual([
      "spoken[0] started at 10.25s, 0.25s after its window; the processes could not run for 30 ms since the caller's turn (0.3s at speed 10)",
    ]);
  });

  it('fails a miss larger than the stalls, naming what was measured', () => {
    const a = allowance(machine([[1_000_500, 30]]));
    expect(checkSpoken([paris], [heard('Paris is the capital of France.', META, 10_400)], a)).toEqual([
      `spoken[0]: expected "Paris is the capital of France." from ${META} starting 8s..10s, heard "Paris is the capital of France." from ${META} at 10.4s (0.4s after its window; the processes could not run for 30 ms since the caller's turn (0.3s at speed 10): not enough to explain it)`,
    ]);
    expect(a.explained).toEqual([]);
  });

  it('counts only stalls after the caller turn that caused the utterance', () => {
    // The stall happened before the second turn (scenario 5 s); the utterance answers the turn at 20 s.
    const a = allowance(machine([[1_000_500, 300]]));
    const late = { ...paris, startMs: [20_000, 22_000] as [number, number] };
    expect(checkSpoken([late], [heard('Paris is the capital of France.', META, 22_100)], a)).toHaveLength(1);
  });

  it('never explains an early utterance, another text or another source', () => {
    const a = allowance(machine([[1_000_900, 5_000]]));
    expect(checkSpoken([paris], [heard('Paris is the capital of France.', META, 7_000)], a)).toHaveLength(1);
    expect(checkSpoken([paris], [heard('Lyon.', META, 10_100)], a)).toHaveLength(1);
    expect(checkSpoken([paris], [heard('Paris is the capital of France.', 'local', 10_100)], a)).toHaveLength(1);
    expect(a.explained).toEqual([]);
  });
});

describe('the stalls of several processes', () => {
  it('count once where they overlap: a starved machine stalls them together', () => {
    const lateness: Lateness = {
      speed: 10,
      originEpochMs: 1_000_000,
      // The fake and the agent could not run during the same 30 ms; the runner during 10 ms of it and 5 ms after.
      reports: [
        { id: 'fake', stalls: [[1_000_530, 30]] },
        { id: 'agent', stalls: [[1_000_530, 30]] },
        { id: 'runner', stalls: [[1_000_535, 15]] },
      ],
      turnsAtMs: [0],
    };
    expect(latenessBefore(lateness, 10_000)).toBe(35 * 10);
  });
});
