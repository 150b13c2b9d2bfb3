/**
 * A chain model OpenRouter does not know (a typo in LLM_MODEL, or a model it retired), through the fake and the real
 * attempt runner: OpenRouter refuses every request to it with a 400 (classify.ts), so it is asked once, not each turn.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningFake } from '../../fakes/openrouter/index.js';
import { chainOnFake, sources, turn } from '../testing/chain-on-fake.js';

const TYPO = 'meta-llama/llama-3.3-70b-instruct:fre';
const B = 'qwen/qwen-2.5-72b-instruct:free';

let fake: RunningFake | undefined;
afterEach(async () => fake?.close());

describe('a model id OpenRouter does not know', () => {
  it('is refused once, then left out while a model nobody serves would be: the next turns go straight to the next model', async () => {
    const on = await chainOnFake([`{ when: { model: "${TYPO}" }, then: { status: 400, message: "${TYPO} is not a valid model ID" } }`], [TYPO, B]);
    fake = on.fake;
    for (const text of ['What is the capital of France?', 'And how many people live there?', 'Thanks!']) {
      expect(sources(await turn(on.chain, text))).toEqual(new Set([`openrouter:${B}`]));
    }
    expect(on.requests()).toEqual([
      [TYPO, TYPO],
      [B, B],
      [B, B],
      [B, B],
    ]);
    expect(on.seen.filter((e) => e.type === 'attempt').map((e) => [e.model, e.outcome])[0]).toEqual([TYPO, 'bad-request']);
  });

  it('a 400 about the request itself still leaves the model in: the next request may be fine', async () => {
    const on = await chainOnFake([`{ when: { model: "${TYPO}", nth: 1 }, then: { status: 400, message: "messages: Invalid input" } }`], [TYPO, B]);
    fake = on.fake;
    expect(sources(await turn(on.chain, 'What is the capital of France?'))).toEqual(new Set([`openrouter:${B}`]));
    expect(sources(await turn(on.chain, 'And how many people live there?'))).toEqual(new Set([`openrouter:${TYPO}`]));
  });
});
