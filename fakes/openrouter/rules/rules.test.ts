import { describe, expect, it } from 'vitest';
import { unitDraw } from '../seeded.js';
import { makeScenario, MODEL_A, MODEL_B } from '../testing.js';
import { decide, DEFAULT_REPLY_TEXT } from './decide.js';
import { nthCheck, probabilityCheck } from './how-often.js';
import { modelMatcher, streamMatcher, windowMatcher, type RuleRequest } from './matchers.js';
import { compileRules, describeRules } from './rule.js';

const request = (over: Partial<RuleRequest> = {}): RuleRequest => ({ model: MODEL_A, atMs: 0, stream: true, nth: 1, seed: 7, answering: 'user', ...over });
const rulesOf = (rules: unknown[]) => compileRules(makeScenario({ rules }).fake.rules);

describe('matchers', () => {
  it('model globs match across the slash', () => {
    expect(modelMatcher('*').matches(request())).toBe(true);
    expect(modelMatcher('meta-llama/*').matches(request())).toBe(true);
    expect(modelMatcher('*:free').matches(request({ model: 'openai/gpt-4o' }))).toBe(false);
    expect(modelMatcher('qwen/*').describe()).toBe('models matching "qwen/*"');
  });

  it('the window includes from and excludes until', () => {
    const w = windowMatcher(1000, 2000);
    expect([999, 1000, 1999, 2000].map((atMs) => w.matches(request({ atMs })))).toEqual([false, true, true, false]);
    expect(w.describe()).toBe('arriving from 1s until 2s');
    expect(windowMatcher(1500, undefined).describe()).toBe('arriving from 1.5s on');
    expect(windowMatcher(undefined, 8000).describe()).toBe('arriving before 8s');
  });

  it('stream matches streamed or not', () => {
    expect(streamMatcher(true).matches(request({ stream: false }))).toBe(false);
    expect(streamMatcher(false).matches(request({ stream: false }))).toBe(true);
  });
});

describe('how often', () => {
  it('nth: listed request numbers, or from one on', () => {
    const only = nthCheck({ kind: 'only', values: [1, 3] });
    expect([1, 2, 3, 4].map((nth) => only.applies(request({ nth }), 0))).toEqual([true, false, true, false]);
    expect(only.describe()).toBe('on request 1 or 3 of each model');
    const from = nthCheck({ kind: 'from', first: 2 });
    expect([1, 2, 3].map((nth) => from.applies(request({ nth }), 0))).toEqual([false, true, true]);
  });

  it('probability is a pure function of (seed, rule index, model, nth)', () => {
    const p = probabilityCheck(0.3);
    const draws = (seed: number) => Array.from({ length: 200 }, (_, i) => p.applies(request({ nth: i + 1, seed }), 2));
    expect(draws(7)).toEqual(draws(7));
    expect(draws(7)).not.toEqual(draws(8));
    // Order does not matter: asking backwards gives the same answers.
    expect([...Array.from({ length: 200 }, (_, i) => p.applies(request({ nth: 200 - i, seed: 7 }), 2))].reverse()).toEqual(draws(7));
    expect(p.applies(request({ nth: 5 }), 2)).toBe(unitDraw(7, 'rule', 2, MODEL_A, 5) < 0.3);
  });

  it('probability applies at about its rate', () => {
    const p = probabilityCheck(0.3);
    const hits = Array.from({ length: 2000 }, (_, i) => p.applies(request({ nth: i + 1 }), 0)).filter(Boolean).length;
    expect(hits / 2000).toBeGreaterThan(0.25);
    expect(hits / 2000).toBeLessThan(0.35);
  });
});

describe('rules', () => {
  it('the first rule that applies wins; nothing applies: fake.reply', () => {
    const rules = rulesOf([
      { when: { model: MODEL_B }, then: 'hang' },
      { when: { model: '*', nth: 2 }, then: 'reset' },
      { when: { model: '*' }, then: { error: 'timeout' } },
      { when: { model: MODEL_A, stream: false }, then: 'empty' },
    ]);
    expect(decide(rules, request({ model: MODEL_B, nth: 2 })).rule?.index).toBe(0);
    expect(decide(rules, request({ nth: 2 })).rule?.index).toBe(1);
    expect(decide(rules, request({ nth: 1, stream: false })).rule?.index).toBe(2);
    const none = decide(rulesOf([{ when: { model: MODEL_B }, then: 'hang' }]), request());
    expect(none).toEqual({ rule: null, fault: { kind: 'reply' }, text: DEFAULT_REPLY_TEXT });
  });

  it('every rule explains itself in one sentence', () => {
    const scenario = makeScenario({
      rules: [
        { when: { model: '*', from: '0s', until: '8s' }, then: { error: 'rate-limit-per-minute', retryAfter: '2s' } },
        { when: { model: 'qwen/*', nth: [1, 3], stream: true }, then: { midStream: { afterTokens: 4, error: 'provider-down' } } },
        { when: { probability: 0.25, nth: '2+' }, then: { stall: { every: '500ms' } } },
        { when: { from: '10s' }, then: { text: 'Back again.', ttft: '1.5s', tokensPerSecond: 20 } },
        { then: { status: 503, message: 'busy' } },
        { then: 'hang' },
        { then: 'reset' },
        { then: { disconnect: { afterTokens: 3 } } },
        { then: { malformed: { afterTokens: 0 } } },
        { then: 'empty' },
      ],
    });
    expect(describeRules(scenario)).toEqual([
      'rule 0: for any model, arriving from 0s until 8s, answer 429 rate-limit-per-minute with Retry-After 2s.',
      'rule 1: for models matching "qwen/*", streamed, on request 1 or 3 of each model, stream 4 token(s), then a mid-stream provider-down error (code 502) and end the stream.',
      'rule 2: for any model, from request 2 of each model on, with probability 0.25, answer 200, then only keep-alive comments every 500ms, never a token.',
      'rule 3: for any model, arriving from 10s on, reply "Back again.", first token after 1.5s, 20 tokens/s.',
      'rule 4: for any model, answer 503 "busy".',
      'rule 5: for any model, never answer, holding the connection open until the client gives up.',
      'rule 6: for any model, reset the connection before any byte.',
      'rule 7: for any model, stream 3 token(s), then close the connection without [DONE].',
      'rule 8: for any model, stream 0 token(s), then a data line that is not JSON.',
      'rule 9: for any model, answer 200 with no content (role, finish, usage, [DONE]).',
      'otherwise: reply with fake.reply.',
    ]);
  });
});
