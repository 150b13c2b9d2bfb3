/**
 * OpenRouter's spending limits through the fake and the real attempt runner: the bodies OpenRouter answers with
 * (its limits page, and public issue threads: classify.ts), scripted as `status` faults, and what the chain then asks.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningFake } from '../../fakes/openrouter/index.js';
import { chainOnFake, LOCAL, sources, turn } from '../testing/chain-on-fake.js';

const A = 'openai/gpt-4o-mini';
const B = 'anthropic/claude-3.5-haiku';
const QUESTION = 'What is the capital of France?';
/** A's first request meets a full in-flight spending budget: OpenRouter's 402, as its limits page shows it. */
const IN_FLIGHT = [
  `{ when: { model: "${A}", nth: 1 }, then: { status: 402,`,
  'message: "This request would exceed your available credits given your current in-flight requests. Retry after in-flight requests settle, or add credits.",',
  'metadata: { reason: in_flight_budget_exhausted, limit_source: openrouter_in_flight_budget }, retryAfter: 1s } }',
].join(' ');

let fake: RunningFake | undefined;
afterEach(async () => fake?.close());

async function rig(rules: string[], models: readonly string[]) {
  const on = await chainOnFake(rules, models);
  fake = on.fake;
  return on;
}

describe("OpenRouter's spending limits through the fake", () => {
  it('a full in-flight spending budget (402 with Retry-After) is waited out: the model is asked again once Retry-After has passed', async () => {
    const { chain, clock, seen, requests } = await rig([IN_FLIGHT], [A]);
    expect(sources(await turn(chain, QUESTION))).toEqual(new Set(['local']));
    expect(seen.filter((e) => e.type === 'attempt').map((e) => [e.model, e.outcome])).toEqual([
      [A, 'rate-limit'],
      [LOCAL, 'ok'],
    ]);
    // Out until the told end, not for an account problem's ten minutes.
    const until = chain.status().find((s) => s.model === A)?.coolingUntil;
    expect(until).toBeDefined();
    expect(until! - clock.now()).toBeLessThanOrEqual(1_000);
    await clock.sleep(Math.max(0, until! - clock.now()) + 1);
    expect(sources(await turn(chain, 'And how many people live there?'))).toEqual(new Set([`openrouter:${A}`]));
    expect(requests()).toEqual([
      [A, A],
      [LOCAL, LOCAL],
      [A, A],
    ]);
  });

  it('with the local server down too, a full in-flight budget holds the caller and answers after Retry-After, not an apology at once', async () => {
    const { chain, seen, requests } = await rig([IN_FLIGHT, `{ when: { model: "${LOCAL}" }, then: { error: provider-down } }`], [A]);
    expect(sources(await turn(chain, QUESTION))).toEqual(new Set(['hold', `openrouter:${A}`]));
    expect(seen.find((e) => e.type === 'turn_end')).toMatchObject({ outcome: 'answered', source: `openrouter:${A}` });
    expect(requests()).toEqual([
      [A, A],
      [LOCAL, LOCAL],
      [A, A],
    ]);
  });

  it("a 403 for the key's own spending cap cools every OpenRouter model at once: no request to each of them on every turn", async () => {
    const keyLimit = (model: string) =>
      `{ when: { model: "${model}" }, then: { status: 403, message: "Key limit exceeded (monthly limit). Manage it using https://openrouter.ai/settings/keys" } }`;
    const { chain, seen, requests } = await rig([keyLimit(A), keyLimit(B)], [A, B]);
    expect(sources(await turn(chain, QUESTION))).toEqual(new Set(['local']));
    expect(sources(await turn(chain, 'And how many people live there?'))).toEqual(new Set(['local']));
    expect(seen.filter((e) => e.type === 'attempt').map((e) => [e.model, e.outcome])).toEqual([
      [A, 'account'],
      [LOCAL, 'ok'],
      [LOCAL, 'ok'],
    ]);
    expect(requests()).toEqual([
      [A, A],
      [LOCAL, LOCAL],
      [LOCAL, LOCAL],
    ]);
  });
});
