import { afterEach, describe, expect, it } from 'vitest';
import type { RunningFake } from '../server.js';
import { unitDraw } from '../seeded.js';
import { fakeFor, MODEL_A, MODEL_B, rawChat, USER } from '../testing.js';

const ask = (fake: RunningFake, model = MODEL_A, stream = false) => rawChat(fake, { model, messages: USER, stream }).then((r) => r.status);

describe('rules applied by the running fake', () => {
  let fake: RunningFake;
  afterEach(() => fake.close());

  it('nth counts requests per model since reset', async () => {
    fake = await fakeFor({ reply: { text: 'ok', ttft: '0ms' }, rules: [{ when: { nth: [1, 3] }, then: { error: 'timeout' } }] });
    expect([await ask(fake), await ask(fake), await ask(fake, MODEL_B), await ask(fake), await ask(fake)]).toEqual([408, 200, 408, 408, 200]);
    fake.reset();
    expect(await ask(fake)).toBe(408);
  });

  it('"2+" applies from the second request on', async () => {
    fake = await fakeFor({ reply: { text: 'ok', ttft: '0ms' }, rules: [{ when: { nth: '2+' }, then: { error: 'provider-down' } }] });
    expect([await ask(fake), await ask(fake), await ask(fake)]).toEqual([200, 502, 502]);
  });

  it('windows use scenario time of arrival, and reset({at}) places time 0', async () => {
    fake = await fakeFor(
      {
        reply: { text: 'ok', ttft: '0ms' },
        rules: [
          { when: { from: '0s', until: '10s' }, then: { error: 'rate-limit-per-minute' } },
          { when: { from: '10s', until: '1m' }, then: { error: 'provider-down' } },
        ],
      },
      { speed: 1 },
    );
    expect(await ask(fake)).toBe(429);
    fake.reset(Date.now() - 20_000);
    expect(await ask(fake)).toBe(502);
    fake.reset(Date.now() - 120_000);
    expect(await ask(fake)).toBe(200);
    const at = fake.journal().entries[0]?.at ?? 0;
    expect(at).toBeGreaterThanOrEqual(120_000);
  });

  it('a window at speed 20 closes 20 times sooner, and the journal says when each request arrived', async () => {
    fake = await fakeFor({ reply: { text: 'ok', ttft: '0ms' }, rules: [{ when: { until: '2s' }, then: { error: 'timeout' } }] });
    fake.reset(Date.now() - 3000 / 20);
    expect(await ask(fake)).toBe(200);
    expect(fake.journal().entries[0]?.at).toBeGreaterThanOrEqual(3000);
  });

  it('stream matches only streamed (or only non-stream) requests', async () => {
    fake = await fakeFor({ reply: { text: 'ok', ttft: '0ms' }, rules: [{ when: { stream: true }, then: { error: 'no-provider' } }] });
    expect([await ask(fake, MODEL_A, true), await ask(fake, MODEL_A, false)]).toEqual([503, 200]);
  });

  it('probability draws per (seed, rule, model, nth), whatever the order of arrival', async () => {
    fake = await fakeFor({ reply: { text: 'ok', ttft: '0ms' }, rules: [{ when: { model: MODEL_A, probability: 0.5 }, then: { error: 'timeout' } }] });
    const expected = Array.from({ length: 20 }, (_, i) => (unitDraw(7, 'rule', 0, MODEL_A, i + 1) < 0.5 ? 408 : 200));
    const sequential: number[] = [];
    for (let i = 0; i < 20; i++) sequential.push((await ask(fake)) ?? 0);
    expect(sequential).toEqual(expected);

    // Concurrent, interleaved with another model: which request gets which nth may change, the multiset may not.
    fake.reset();
    const concurrent = await Promise.all(Array.from({ length: 20 }, (_, i) => ask(fake, i % 2 ? MODEL_A : MODEL_B)).concat(Array.from({ length: 10 }, () => ask(fake))));
    const failures = concurrent.filter((s) => s === 408).length;
    expect(failures).toBe(expected.filter((s) => s === 408).length);
  });

  it('the journal names the rule and explains it', async () => {
    fake = await fakeFor({ reply: { text: 'ok', ttft: '0ms' }, rules: [{ when: { model: MODEL_B }, then: 'reset' }, { when: { nth: 1 }, then: { error: 'timeout' } }] });
    await ask(fake);
    await ask(fake);
    expect(fake.journal().entries.map((e) => [e.rule, e.ruleText])).toEqual([
      [1, `rule 1: for any model, on request 1 of each model, answer 408 timeout.`],
      [null, 'no rule matched: reply with fake.reply.'],
    ]);
  });
});
