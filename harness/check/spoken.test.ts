import { describe, expect, it } from 'vitest';
import type { SpokenExpectation } from '../../contract/scenario/schema.js';
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
