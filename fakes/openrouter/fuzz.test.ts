/**
 * Fuzzing chat requests: whatever the body, `readChatRequest` returns a request or a message (never throws), and
 * the fake over HTTP answers it with a status below 500 (a 4xx in OpenRouter's error shape for a bad one), never
 * a 500 and never a dropped connection. Seeds are fixed, so a failure replays.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningFake } from './server.js';
import { fakeFor, KEY, MODEL_A, MODEL_B, raw } from './testing.js';
import { readChatRequest } from './wire/request.js';

/** Values that sit near the schema's edges: wrong types, nulls, huge and odd numbers, odd strings. */
const edgy = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(null, true, 0, -1, 1e300, -0, 2 ** 53, '', '\u0000', '\u202E', 'x'.repeat(1000), [], {}, [null], { role: 1 }),
);
/** Mostly a right value, sometimes anything: most requests get past validation, every field is sometimes wrong. */
const mostly = <T>(right: fc.Arbitrary<T>) => fc.oneof({ arbitrary: right, weight: 6 }, { arbitrary: edgy, weight: 1 });
const message = mostly(
  fc.record({ role: fc.constantFrom('user', 'system', 'assistant'), content: fc.oneof(fc.string(), fc.constant(null), fc.array(fc.record({ type: fc.constant('text'), text: fc.string() }), { maxLength: 2 })) }),
);
/** Bodies shaped like chat requests, each field sometimes absent, usually right, sometimes anything. */
const chatBody = fc.record(
  {
    model: mostly(fc.constantFrom(MODEL_A, MODEL_B, 'openai/gpt-4o')),
    models: mostly(fc.array(fc.constantFrom(MODEL_A, MODEL_B, 'x/y'), { maxLength: 3 })),
    messages: fc.oneof({ arbitrary: fc.array(message, { minLength: 1, maxLength: 4 }), weight: 8 }, { arbitrary: edgy, weight: 1 }),
    stream: mostly(fc.boolean()),
    stream_options: mostly(fc.record({ include_usage: fc.boolean() })),
    max_tokens: mostly(fc.integer({ min: 1, max: 1000 })),
    temperature: mostly(fc.double({ min: 0, max: 2, noNaN: true })),
    tools: mostly(fc.constant([{ type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } }])),
    tool_choice: mostly(fc.constantFrom('auto', 'none')),
    provider: mostly(fc.record({ sort: fc.constantFrom('price', 'latency') })),
    response_format: mostly(fc.constantFrom({ type: 'text' }, { type: 'json_object' })),
    transforms: mostly(fc.constant(['middle-out'])),
    usage: mostly(fc.record({ include: fc.boolean() })),
  },
  { requiredKeys: ['messages'] },
);
/** Raw bodies: JSON of anything, chat-shaped JSON, or not JSON at all. */
const body = fc.oneof(chatBody.map((b) => JSON.stringify(b)), fc.jsonValue().map((v) => JSON.stringify(v)), fc.string({ unit: 'binary', maxLength: 200 }));

describe('fuzzing chat requests', () => {
  it('reading a body never throws: a request or a message', () => {
    fc.assert(
      fc.property(body, (text) => {
        const read = readChatRequest(text);
        if (!read.ok) expect(typeof read.message).toBe('string');
      }),
      { seed: 5, numRuns: 2000 },
    );
  });

  describe('over HTTP', () => {
    let fake: RunningFake;
    // Replies at once, so a valid request is answered (200) as fast as a bad one is refused.
    beforeAll(async () => {
      fake = await fakeFor({ reply: { text: 'ok', ttft: '0ms', tokensPerSecond: 100_000 } }, { speed: 1000 });
    });
    afterAll(() => fake.close());

    it('every body gets an answer below 500, a refusal in OpenRouter\'s error shape', async () => {
      const statuses = new Set<number>();
      await fc.assert(
        fc.asyncProperty(body, async (text) => {
          const res = await raw(`${fake.baseURL}/chat/completions`, {
            method: 'POST',
            headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' },
            body: text,
          });
          expect(res.error, res.body).toBeUndefined();
          expect(res.status).toBeLessThan(500);
          statuses.add(res.status as number);
          if ((res.status as number) >= 400) {
            const parsed = JSON.parse(res.body) as { error: { message: unknown; code: unknown } };
            expect(typeof parsed.error.message).toBe('string');
            expect(parsed.error.code).toBe(res.status);
          }
        }),
        { seed: 7, numRuns: 300 },
      );
      // The bodies reached every branch: answered, refused as malformed, refused for an unknown model.
      expect([...statuses].sort()).toEqual([200, 400, 404]);
    });
  });
});

