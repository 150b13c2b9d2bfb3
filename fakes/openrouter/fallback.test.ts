import { afterEach, describe, expect, it } from 'vitest';
import type { RunningFake } from './server.js';
import { fakeFor, MODEL_A, MODEL_B, openaiFor, rawChat, sse, streamedText, USER } from './testing.js';

const MODEL_C = 'mistralai/mistral-7b-instruct:free';

describe('models[]: server-side fallback', () => {
  let fake: RunningFake;
  afterEach(() => fake.close());

  it('an error before the stream moves on to the next model, which serves and is named in the response', async () => {
    fake = await fakeFor({ reply: { text: 'from the fallback' }, rules: [{ when: { model: MODEL_A }, then: { error: 'provider-down' } }] });
    const out = await openaiFor(fake).chat.completions.create({ model: MODEL_A, messages: USER, models: [MODEL_A, MODEL_B] } as never);
    expect(out.model).toBe(MODEL_B);
    expect(out.choices[0]?.message.content).toBe('from the fallback');
    const [entry] = fake.journal().entries;
    expect(entry).toMatchObject({ model: MODEL_A, servedBy: MODEL_B, outcome: '200', rule: null });
    expect(entry?.ruleText).toBe(
      `${MODEL_A}: rule 0: for models matching "${MODEL_A}", answer 502 provider-down. (fell back) -> ${MODEL_B}: no rule matched: reply with fake.reply.`,
    );
  });

  it('works for streams too (the fallback happens before the first byte)', async () => {
    fake = await fakeFor({ reply: { text: 'streamed fallback' }, rules: [{ when: { model: MODEL_A }, then: { error: 'rate-limit-per-minute' } }] });
    const res = await rawChat(fake, { models: [MODEL_A, MODEL_B], messages: USER, stream: true });
    expect(res.status).toBe(200);
    const { data } = sse(res.body);
    expect(streamedText(data)).toBe('streamed fallback');
    expect(JSON.parse(data[0] ?? '{}')).toMatchObject({ model: MODEL_B });
  });

  it('the last model\'s error is the answer when every model fails', async () => {
    fake = await fakeFor({
      models: [MODEL_C],
      rules: [
        { when: { model: MODEL_A }, then: { error: 'provider-down' } },
        { when: { model: MODEL_B }, then: { error: 'upstream-rate-limit' } },
        { when: { model: MODEL_C }, then: { error: 'no-provider' } },
      ],
    });
    const res = await rawChat(fake, { model: MODEL_A, models: [MODEL_B, MODEL_C], messages: USER });
    expect(res.status).toBe(503);
    expect(fake.journal().entries[0]).toMatchObject({ model: MODEL_A, servedBy: MODEL_C, outcome: '503', rule: 2 });
  });

  it('key and credit errors do not fall back', async () => {
    fake = await fakeFor({ rules: [{ when: { model: MODEL_A }, then: { error: 'insufficient-credits' } }] });
    const res = await rawChat(fake, { models: [MODEL_A, MODEL_B], messages: USER });
    expect(res.status).toBe(402);
    expect(fake.journal().entries[0]).toMatchObject({ servedBy: MODEL_A });
  });

  it('faults after the first byte do not fall back', async () => {
    fake = await fakeFor({ reply: { text: 'a b c' }, rules: [{ when: { model: MODEL_A }, then: { midStream: { afterTokens: 1, error: 'provider-down' } } }] });
    const res = await rawChat(fake, { models: [MODEL_A, MODEL_B], messages: USER, stream: true });
    expect(res.body).toContain('"finish_reason":"error"');
    expect(fake.journal().entries[0]).toMatchObject({ servedBy: MODEL_A, outcome: 'midStream' });
  });

  it('models the scenario does not serve are skipped; each model tried counts toward its own nth', async () => {
    fake = await fakeFor({
      reply: { text: 'ok' },
      rules: [
        { when: { model: MODEL_A }, then: { error: 'timeout' } },
        { when: { model: MODEL_B, nth: 1 }, then: { error: 'timeout' } },
      ],
    });
    const first = await rawChat(fake, { models: ['openai/unknown', MODEL_A, MODEL_B], messages: USER });
    expect(first.status).toBe(408);
    const second = await rawChat(fake, { models: [MODEL_A, MODEL_B], messages: USER });
    expect(second.status).toBe(200);
    expect(fake.journal().entries.map((e) => [e.model, e.servedBy])).toEqual([
      ['openai/unknown', MODEL_B],
      [MODEL_A, MODEL_B],
    ]);
  });
});
