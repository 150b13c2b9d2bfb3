import { afterEach, describe, expect, it } from 'vitest';
import { JournalBook } from './journal.js';
import { formatEntry } from './log-line.js';
import type { RunningFake } from './server.js';
import { fakeFor, MODEL_A, nextClosed, raw, rawChat, USER } from './testing.js';

describe('the journal is bounded', () => {
  it('keeps the newest entries and counts the ones it forgot; reset starts the count over', () => {
    const book = new JournalBook(3);
    for (let i = 0; i < 5; i++) book.open(i, 'POST', '/api/v1/chat/completions');
    const journal = book.snapshot(0, 1);
    expect(journal.entries.map((e) => e.seq)).toEqual([3, 4, 5]);
    expect(journal.dropped).toBe(2);
    book.clear();
    book.open(9, 'GET', '/api/v1/models');
    expect(book.snapshot(0, 1)).toMatchObject({ entries: [{ seq: 1 }], dropped: 0 });
  });

  describe('request-controlled fields', () => {
    let fake: RunningFake;
    afterEach(() => fake.close());

    it('a megabyte model id is kept as 256 characters and how many were cut', async () => {
      fake = await fakeFor({}, { bodyLimitBytes: 4 * 1024 * 1024 });
      const huge = `x/${'y'.repeat(1024 * 1024)}`;
      const closed = nextClosed(fake);
      expect((await rawChat(fake, { model: huge, messages: USER })).status).toBe(404);
      const [entry] = (await raw(`${fake.url}/__fake/journal`).then((r) => JSON.parse(r.body) as { entries: { model: string }[] })).entries;
      expect(entry?.model).toBe(`${huge.slice(0, 256)}...(+${huge.length - 256} characters)`);
      expect((await closed).model?.length).toBeLessThan(300);
    });

    it('a path is clipped the same way', async () => {
      fake = await fakeFor();
      await raw(`${fake.baseURL}/${'p'.repeat(8000)}`);
      expect(fake.journal().entries[0]?.path).toMatch(/^\/api\/v1\/p{248}\.\.\.\(\+7752 characters\)$/);
    });
  });
});

describe('the request log line', () => {
  const entry = { seq: 1, at: 1250, method: 'POST', key: 'key_3f9a0c1b2d4e', path: '/api/v1/chat/completions', servedBy: null, stream: false, rule: null, ruleText: 'the scenario serves no such model', outcome: '404' as const, ttfbMs: 1, durationMs: 2 };

  it('is one line whatever the client sent: line breaks, terminal escapes and bidi overrides are shown, not obeyed', () => {
    const line = formatEntry({ ...entry, model: 'a/b\n  0.000s  forged/model  200\u001b[2J\u202egnp.exe' });
    // eslint-disable-next-line no-control-regex
    expect(line).not.toMatch(/[\n\r\u001b\u202e]/);
    expect(line).toContain('a/b\\n  0.000s  forged/model  200\\u001b[2J\\u202egnp.exe');
  });

  it('a request without a model shows its escaped method and path', () => {
    expect(formatEntry({ ...entry, model: null, path: '/api/v1/x\r\ny', rule: null })).toContain('POST /api/v1/x\\r\\ny  404');
    expect(formatEntry({ ...entry, model: MODEL_A })).toContain(MODEL_A);
  });
});
