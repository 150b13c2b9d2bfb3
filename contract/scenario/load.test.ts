import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { libraryNames, resolveScenario, SCENARIO_DIR } from './library.js';
import { loadScenarioFile, parseScenario, ScenarioError } from './load.js';

/** A minimal valid head; `extra` is appended at line 5. */
const head = (extra: string) => `name: t\ndescription: d\nagent:\n  models: [a/b]\n${extra}`;

function problemsOf(text: string, file = 'x.yaml', expectedName?: string): string[] {
  try {
    parseScenario(text, file, expectedName);
  } catch (err) {
    if (err instanceof ScenarioError) return err.message.split('\n');
    throw err;
  }
  throw new Error('expected the scenario to be rejected');
}

describe('malformed scenarios: every problem with file:line:column key: message', () => {
  it.each([
    ['YAML that does not parse', 'name: t\ndescription: [unclosed\nagent: {}\n', ['x.yaml:3:1 Flow sequence in block collection must be sufficiently indented and end with a ]']],
    ['a key written twice', 'name: t\nname: u\ndescription: d\nagent: { models: [a/b] }\n', ['x.yaml:2:1 Map keys must be unique']],
    ['tabs for indentation', 'name: t\n\tdescription: d\n', ['x.yaml:2:1 Tabs are not allowed as indentation']],
    ['a document that is not a mapping', '- a\n- b\n', ['x.yaml:1:1 expected an object, got ["a","b"]']],
    ['a missing required key', 'description: d\nagent: { models: [a/b] }\n', ['x.yaml:1:1 name: required']],
    ['a name that is not lowercase', 'name: Rate Limit\ndescription: d\nagent: { models: [a/b] }\n', ['x.yaml:1:7 name: expected a lowercase name like rate-limit-storm']],
    ['an unknown key, pointed at the key', head('extra: 1\n'), ['x.yaml:5:1 extra: unknown key']],
    ['an empty model chain', 'name: t\ndescription: d\nagent:\n  models: []\n', ['x.yaml:4:11 agent.models: expected at least one model in the chain']],
    ['a duration without a unit', head('fake:\n  reply: { ttft: 2 }\n'), ['x.yaml:6:18 fake.reply.ttft: expected a duration like "2s", got 2']],
    ['a calendar start that is not an instant', head('fake:\n  startsAt: tomorrow\n'), ['x.yaml:6:13 fake.startsAt: expected an ISO 8601 instant like "2026-01-15T12:00:00Z"']],
    ['negative credits', head('fake:\n  account: { credits: -5 }\n'), ['x.yaml:6:23 fake.account.credits: expected credits bought in USD, 0 or more, got -5']],
    ['credits that are not a number', head('fake:\n  account:\n    credits: ten\n'), ['x.yaml:7:14 fake.account.credits: expected a number, got "ten"']],
    ['a quota switch that is not a boolean', head('fake:\n  account: { quota: off }\n'), ['x.yaml:6:21 fake.account.quota: expected a boolean, got "off"']],
    ['an unknown account key', head('fake:\n  account: { credit: 10 }\n'), ['x.yaml:6:14 fake.account.credit: unknown key']],
    ['an account that is not an object', head('fake:\n  account: 10\n'), ['x.yaml:6:12 fake.account: expected an object, got 10']],
    ['a rate of zero', head('fake:\n  reply: { tokensPerSecond: 0 }\n'), ['x.yaml:6:29 fake.reply.tokensPerSecond: expected more than 0, got 0']],
    [
      'an unknown error preset',
      head('fake:\n  rules:\n    - then: { error: rate-limited }\n'),
      [
        'x.yaml:7:22 fake.rules[0].then.error: expected one of rate-limit-per-minute, rate-limit-per-day, upstream-rate-limit, no-endpoints, insufficient-credits, invalid-key, moderation, timeout, provider-down, no-provider, bad-request, got "rate-limited"',
      ],
    ],
    ['two faults in one then', head('fake:\n  rules:\n    - then: { hang: {}, reset: {} }\n'), ['x.yaml:7:13 fake.rules[0].then: expected exactly one fault, got hang and reset']],
    ['a fault and reply fields', head('fake:\n  rules:\n    - then: { hang: {}, text: hi }\n'), ['x.yaml:7:13 fake.rules[0].then: expected exactly one fault, got hang and reply fields']],
    [
      'a bare word that is not a bare fault',
      head('fake:\n  rules:\n    - then: disconnect\n'),
      ['x.yaml:7:13 fake.rules[0].then: expected one of hang, stall, reset, empty or an object naming a fault, got "disconnect"'],
    ],
    [
      'a rule without then',
      head('fake:\n  rules:\n    - when: { model: "*" }\n'),
      ['x.yaml:7:7 fake.rules[0].then: expected a fault (e.g. "hang" or { error: rate-limit-per-minute }), got nothing'],
    ],
    ['an unknown key inside a fault', head('fake:\n  rules:\n    - then: { error: timeout, retry: 2s }\n'), ['x.yaml:7:31 fake.rules[0].then.retry: unknown key']],
    ['a window that ends before it starts', head('fake:\n  rules:\n    - when: { from: 5s, until: 2s }\n      then: hang\n'), ['x.yaml:7:32 fake.rules[0].when.until: until must be later than from']],
    [
      'an nth that is not a request number',
      head('fake:\n  rules:\n    - when: { nth: [1, 0] }\n      then: hang\n'),
      ['x.yaml:7:24 fake.rules[0].when.nth[1]: expected a request number like 1, a list like [1, 3] or "2+", got 0'],
    ],
    [
      'a header name that is not a token, pointed at the name',
      head('fake:\n  rules:\n    - then: { status: 503, headers: { "bad name": x } }\n'),
      ["x.yaml:7:39 fake.rules[0].then.headers[\"bad name\"]: expected a header name (letters, digits and !#$%&'*+-.^_`|~), got \"bad name\""],
    ],
    [
      'a framing header',
      head('fake:\n  rules:\n    - then: { status: 503, headers: { Content-Length: "5" } }\n'),
      ['x.yaml:7:39 fake.rules[0].then.headers.Content-Length: Content-Length is written by the fake itself (it frames the response); it cannot be scripted'],
    ],
    [
      'a header value with a line break (response splitting)',
      head('fake:\n  rules:\n    - then: { status: 503, headers: { x-a: "1\\r\\nSet-Cookie: a=b" } }\n'),
      ['x.yaml:7:44 fake.rules[0].then.headers.x-a: expected a header value without line breaks or control characters (tab allowed)'],
    ],
    [
      'the same header twice in two cases',
      head('fake:\n  rules:\n    - then: { status: 503, headers: { x-a: "1", X-A: "2" } }\n'),
      ['x.yaml:7:37 fake.rules[0].then.headers: expected each header once (names are case-insensitive)'],
    ],
    ['a probability above 1', head('fake:\n  rules:\n    - when: { probability: 1.5 }\n      then: hang\n'), ['x.yaml:7:28 fake.rules[0].when.probability: expected at most 1, got 1.5']],
    ['a status that is not an error', head('fake:\n  rules:\n    - then: { status: 200 }\n'), ['x.yaml:7:23 fake.rules[0].then.status: expected at least 400, got 200']],
    [
      'negative afterTokens',
      head('fake:\n  rules:\n    - then: { disconnect: { afterTokens: -1 } }\n'),
      ['x.yaml:7:42 fake.rules[0].then.disconnect.afterTokens: expected at least 0, got -1'],
    ],
    ['a user turn without words', head('user:\n  - { at: 1s }\n'), ['x.yaml:6:5 user[0].say: required']],
    ['a request expectation without bounds', head('expect:\n  requests:\n    - { model: "a/*" }\n'), ['x.yaml:7:7 expect.requests[0]: expected at least one of min, max, count']],
    [
      'an unknown speaker',
      head('expect:\n  spoken:\n    - { text: hi, source: robot }\n'),
      ['x.yaml:7:27 expect.spoken[0].source: expected hold, apology, local or openrouter:<model id>, got "robot"'],
    ],
    ['a start window backwards', head('expect:\n  spoken:\n    - { text: hi, start: [2s, 1s] }\n'), ['x.yaml:7:26 expect.spoken[0].start: the window must not end before it starts']],
  ])('%s', (_name, text, expected) => {
    expect(problemsOf(text)).toEqual(expected);
  });

  it('reports every problem at once, in file order', () => {
    const text = 'name: T\ndescription: ""\nagent:\n  models: [a/b]\n  extra: 1\nfake:\n  keepAliveEvery: 1\n';
    expect(problemsOf(text, 'many.yaml')).toEqual([
      'many.yaml:1:7 name: expected a lowercase name like rate-limit-storm',
      'many.yaml:2:14 description: expected a non-empty string',
      'many.yaml:5:3 agent.extra: unknown key',
      'many.yaml:7:19 fake.keepAliveEvery: expected a duration like "2s", got 1',
    ]);
  });

  it('a library file must carry its own name', () => {
    expect(problemsOf(head(''), 'scenarios/other.yaml', 'other')).toEqual(['scenarios/other.yaml:1:7 name: expected "other" (the file\'s name), got "t"']);
  });

  it('keeps the problems as data too', () => {
    expect.assertions(1);
    try {
      parseScenario(head('fake:\n  reply: { ttft: 2 }\n'), 'x.yaml');
    } catch (err) {
      expect((err as ScenarioError).problems).toEqual([{ file: 'x.yaml', line: 6, column: 18, path: 'fake.reply.ttft', message: 'expected a duration like "2s", got 2' }]);
    }
  });
});

describe('a fleet: calls, stagger and agent.redis', () => {
  it('reads calls, a stagger and a Redis, with or without an outage', () => {
    const plain = parseScenario(head('  redis: true\ncalls: 10\nstagger: 500ms\n'), 'x.yaml');
    expect(plain).toMatchObject({ calls: 10, staggerMs: 500, agent: { redis: {} } });
    const down = parseScenario(head('  redis: { down: { at: 10s, for: 5s } }\n'), 'x.yaml');
    expect(down.agent.redis).toEqual({ down: { atMs: 10_000, forMs: 5000 } });
    expect(parseScenario(head('  redis: false\n'), 'x.yaml').agent.redis).toBe(false);
  });

  it.each([
    ['no calls', head('calls: 0\n'), ['x.yaml:5:8 calls: expected at least 1 call, got 0']],
    ['a fraction of a call', head('calls: 2.5\n'), ['x.yaml:5:8 calls: expected an int, got 2.5']],
    ['more calls than processes are sensible', head('calls: 500\n'), ['x.yaml:5:8 calls: expected at most 50 calls (each is an agent process), got 500']],
    ['calls as text', head('calls: ten\n'), ['x.yaml:5:8 calls: expected a number, got "ten"']],
    ['a stagger without a unit', head('stagger: 2\n'), ['x.yaml:5:10 stagger: expected a duration like "2s", got 2']],
    ['redis as a word', head('  redis: yes\n'), ['x.yaml:5:10 agent.redis: expected true, false or { down: { at: 10s, for: 5s } }, got "yes"']],
    ['an outage without an end', head('  redis: { down: { at: 10s } }\n'), ['x.yaml:5:18 agent.redis.down.for: expected a duration like "2s", got nothing']],
    ['an outage of no time', head('  redis: { down: { at: 10s, for: 0s } }\n'), ['x.yaml:5:34 agent.redis.down.for: expected a positive duration, got 0']],
    ['an unknown outage key', head('  redis: { down: { at: 10s, for: 1s, again: 2s } }\n'), ['x.yaml:5:38 agent.redis.down.again: unknown key']],
    [
      'a Redis of its own beside agent.redis',
      head('  redis: true\n  env: { REDIS_URL: "redis://127.0.0.1:6379" }\n'),
      ['x.yaml:6:21 agent.env.REDIS_URL: agent.redis starts a Redis for the rehearsal and sets REDIS_URL itself: remove agent.env.REDIS_URL, or set redis: false'],
    ],
  ])('rejects %s', (_what, text, problems) => {
    expect(problemsOf(text)).toEqual(problems);
  });
});

describe('valid scenarios', () => {
  it('applies every default once', () => {
    const s = parseScenario(head(''), 'x.yaml');
    expect(s).toEqual({
      name: 't',
      description: 'd',
      seed: 1,
      agent: { models: ['a/b'], local: false, env: {}, redis: false },
      fake: { reply: { ttftMs: 200, tokensPerSecond: 40 }, models: [], catalog: [], keepAliveEveryMs: 1000, account: { credits: 10, quota: true }, rules: [], startsAtEpochMs: undefined },
      calls: 1,
      staggerMs: 0,
      user: [],
      expect: { spoken: [], requests: [], tools: [] },
    });
  });

  it('parses every fault kind to its flat form, durations in ms', () => {
    const rules = [
      'then: { error: rate-limit-per-minute, retryAfter: 1.5s }',
      'then: { status: 529, message: busy, metadata: { a: 1 }, headers: { X-A: b }, retryAfter: 2s }',
      'then: hang',
      'then: { stall: { every: 250ms } }',
      'then: reset',
      'then: { disconnect: { afterTokens: 3 } }',
      'then: { midStream: { afterTokens: 2, error: provider-down } }',
      'then: { malformed: { afterTokens: 0 } }',
      'then: empty',
      'then: { text: Hello., ttft: 1m, tokensPerSecond: 12.5 }',
      'then: stall',
    ];
    const s = parseScenario(head(`fake:\n  rules:\n${rules.map((r) => `    - ${r}\n`).join('')}`), 'x.yaml');
    expect(s.fake.rules.map((r) => r.then)).toEqual([
      { kind: 'error', error: 'rate-limit-per-minute', retryAfterMs: 1500 },
      { kind: 'status', status: 529, message: 'busy', metadata: { a: 1 }, headers: { 'X-A': 'b' }, retryAfterMs: 2000 },
      { kind: 'hang' },
      { kind: 'stall', everyMs: 250 },
      { kind: 'reset' },
      { kind: 'disconnect', afterTokens: 3 },
      { kind: 'midStream', afterTokens: 2, error: 'provider-down' },
      { kind: 'malformed', afterTokens: 0 },
      { kind: 'empty' },
      { kind: 'reply', text: 'Hello.', ttftMs: 60_000, tokensPerSecond: 12.5 },
      { kind: 'stall' },
    ]);
    expect(s.fake.rules[0]?.when).toEqual({ model: '*' });
  });

  it('parses scripted tool calls (arguments as an object or as text), after and the catalog', () => {
    const s = parseScenario(
      head(
        [
          'fake:',
          '  catalog: [{ model: "deepseek/*", tools: false }, { model: "x/y" }]',
          '  rules:',
          '    - when: { after: toolResult }',
          '      then: { toolCalls: [{ name: lookup_order, arguments: { order_id: "4417" } }] }',
          '    - then: { disconnect: { afterTokens: 2, toolCalls: [{ name: f, arguments: "{not json" }, { name: g }] } }',
          '',
        ].join('\n'),
      ),
      'x.yaml',
    );
    expect(s.fake.catalog).toEqual([
      { model: 'deepseek/*', tools: false, contextLength: 131_072, reasoning: false },
      { model: 'x/y', tools: true, contextLength: 131_072, reasoning: false },
    ]);
    expect(s.fake.rules[0]).toEqual({
      when: { model: '*', after: 'toolResult' },
      then: { kind: 'reply', toolCalls: [{ name: 'lookup_order', arguments: '{"order_id":"4417"}' }] },
    });
    expect(s.fake.rules[1]?.then).toEqual({
      kind: 'disconnect',
      afterTokens: 2,
      toolCalls: [{ name: 'f', arguments: '{not json' }, { name: 'g', arguments: '{}' }],
    });
  });

  it('a bad tool call or after is a scenario problem with its position', () => {
    const bad = () => parseScenario(head('fake:\n  rules:\n    - when: { after: tool }\n      then: { toolCalls: [{ name: "no spaces" }] }\n'), 'x.yaml');
    expect(bad).toThrow(/after: expected user or toolResult, got "tool"/);
    expect(bad).toThrow(/name: expected a function name like lookup_order, got "no spaces"/);
  });

  it('parses matchers and how-often', () => {
    const s = parseScenario(
      head('fake:\n  rules:\n    - when: { model: "qwen/*", from: 2s, until: 8s, nth: [1, 3], probability: 0.5, stream: true }\n      then: hang\n    - when: { nth: "2+" }\n      then: hang\n    - when: { nth: 4 }\n      then: hang\n'),
      'x.yaml',
    );
    expect(s.fake.rules.map((r) => r.when)).toEqual([
      { model: 'qwen/*', fromMs: 2000, untilMs: 8000, nth: { kind: 'only', values: [1, 3] }, probability: 0.5, stream: true },
      { model: '*', nth: { kind: 'from', first: 2 } },
      { model: '*', nth: { kind: 'only', values: [4] } },
    ]);
  });

  it("the schema's own example (as the issue wrote it) parses to what it says", () => {
    // Inline, not the library file: the library's expectations are tuned by running them; this pins the schema.
    const s = parseScenario(
      [
        'name: rate-limit-storm',
        'description: Every model is rate-limited for 8 s; the agent holds once, backs off, then answers.',
        'seed: 7',
        'agent:',
        '  models: [meta-llama/llama-3.3-70b-instruct:free, qwen/qwen-2.5-72b-instruct:free]',
        '  local: false',
        '  env: {}',
        'fake:',
        '  reply: { text: "Paris is the capital of France.", ttft: 200ms, tokensPerSecond: 40 }',
        '  rules:',
        '    - when: { model: "*", from: 0s, until: 8s }',
        '      then: { error: rate-limit-per-minute, retryAfter: 2s }',
        'user:',
        '  - { at: 0s, say: "What is the capital of France?" }',
        'expect:',
        '  spoken:',
        '    - { text: "Hang on a sec.", source: hold, start: [0s, 1s] }',
        '    - { text: "Paris is the capital of France.", source: "openrouter:meta-llama/llama-3.3-70b-instruct:free", start: [8s, 10s] }',
        '  requests:',
        '    - { model: "qwen/*", min: 1 }',
      ].join('\n'),
      'scenarios/rate-limit-storm.yaml',
      'rate-limit-storm',
    );
    expect(s).toMatchObject({
      name: 'rate-limit-storm',
      seed: 7,
      agent: { models: ['meta-llama/llama-3.3-70b-instruct:free', 'qwen/qwen-2.5-72b-instruct:free'], local: false },
      fake: {
        reply: { text: 'Paris is the capital of France.', ttftMs: 200, tokensPerSecond: 40 },
        rules: [{ when: { model: '*', fromMs: 0, untilMs: 8000 }, then: { kind: 'error', error: 'rate-limit-per-minute', retryAfterMs: 2000 } }],
      },
      user: [{ atMs: 0, say: 'What is the capital of France?' }],
      expect: { spoken: [{ text: 'Hang on a sec.', source: 'hold', startMs: [0, 1000] }, expect.any(Object)], requests: [{ model: 'qwen/*', min: 1 }] },
    });
  });

  it('every scenario in the library parses', () => {
    for (const name of libraryNames()) expect(() => loadScenarioFile(join(SCENARIO_DIR, `${name}.yaml`))).not.toThrow();
  });
});

describe('files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'scenario-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a missing file is one problem at 1:1', () => {
    expect(() => loadScenarioFile(join(dir, 'nope.yaml'), dir)).toThrow('nope.yaml:1:1 no such file');
  });

  it('files are named relative to the working directory', () => {
    writeFileSync(join(dir, 't.yaml'), head('fake:\n  keepAliveEvery: 1\n'));
    expect(() => loadScenarioFile(join(dir, 't.yaml'), dir)).toThrow('t.yaml:6:19 fake.keepAliveEvery: expected a duration like "2s", got 1');
  });

  it('names resolve into the library, paths stay paths', () => {
    expect(resolveScenario('rate-limit-storm')).toBe(join(SCENARIO_DIR, 'rate-limit-storm.yaml'));
    expect(resolveScenario('./mine.yaml')).toBe(join(process.cwd(), 'mine.yaml'));
  });
});

describe('hostile scenarios: one clear problem, nothing expanded, nothing echoed whole', () => {
  /** Nine levels of ten aliases each: 10^9 values once expanded, 400 bytes written. */
  const billionLaughs = [
    'name: t',
    'description: d',
    'agent: { models: [a/b] }',
    'fake:',
    '  rules:',
    '    - then:',
    '        status: 500',
    '        metadata:',
    '          l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]',
    ...Array.from({ length: 9 }, (_, i) => `          l${i + 1}: &l${i + 1} [${Array(10).fill(`*l${i}`).join(', ')}]`),
    '',
  ].join('\n');

  it('a billion-laughs alias bomb is one problem, refused before it expands', () => {
    const problems = problemsOf(billionLaughs);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^x\.yaml:\d+:\d+ expands to more than 100000 values once its aliases are followed \(an alias bomb\?\)$/);
  });

  it('a wide fan of aliases that yaml\'s own alias guard lets through is refused too', () => {
    const row = `[${Array(1000).fill('x').join(', ')}]`;
    const fan = `[${Array(101).fill('*row').join(', ')}]`;
    const problems = problemsOf(head(`fake:\n  rules:\n    - then: { status: 500, metadata: { row: &row ${row}, fan: ${fan} } }\n`));
    expect(problems).toEqual([expect.stringMatching(/^x\.yaml:7:\d+ expands to more than 100000 values/)]);
  });

  it('more aliases than the limit is one problem (yaml resolves each by scanning all before it)', () => {
    const problems = problemsOf(head(`fake:\n  rules:\n    - then: { status: 500, metadata: { a: &a x, many: [${Array(2000).fill('*a').join(',')}] } }\n`));
    expect(problems).toEqual(['x.yaml:7:56 uses more than 1000 aliases (*name)']);
  });

  it('an alias inside its own anchor (an endless document) is one problem', () => {
    expect(problemsOf('name: t\ndescription: d\nagent: &a { models: [*a] }\n')).toEqual([
      'x.yaml:3:22 the alias *a refers to a node that contains it (an endless document)',
    ]);
  });

  it('an alias without an anchor is one problem', () => {
    expect(problemsOf('name: *nowhere\ndescription: d\nagent: { models: [a/b] }\n')).toEqual([
      'x.yaml:1:1 Unresolved alias (the anchor must be set before the alias): nowhere',
    ]);
  });

  it('nesting past the depth limit is one problem, aliases included', () => {
    expect(problemsOf(head(`fake: { rules: [{ then: { status: 500, metadata: { deep: ${'['.repeat(100)}${']'.repeat(100)} } } }] }\n`))).toEqual([
      expect.stringMatching(/^x\.yaml:5:\d+ nested deeper than 64 levels$/),
    ]);
    // Each anchor is shallow; stacked through aliases they are not.
    const stacked = Array.from({ length: 5 }, (_, i) => `  d${i}: &d${i} ${'['.repeat(20)}${i === 0 ? '' : `*d${i - 1}`}${']'.repeat(20)}`).join('\n');
    expect(problemsOf(head(`fake:\n  rules:\n    - then:\n        status: 500\n        metadata:\n${stacked.replace(/^ {2}/gm, '          ')}\n`))).toEqual([
      expect.stringMatching(/nested deeper than 64 levels once its aliases are followed$/),
    ]);
  });

  it('text over the size limit is one problem, before parsing', () => {
    expect(problemsOf(`# ${'x'.repeat(1024 * 1024)}\n`)).toEqual(['x.yaml:1:1 1048579 bytes, more than the 1048576-byte limit (a scenario is a few KB)']);
  });

  it('a file that is not a scenario is quoted in one short line, not echoed whole', () => {
    const prose = 'It was a dark and stormy night; the rain fell in torrents.\n'.repeat(2000);
    const problems = problemsOf(prose);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^x\.yaml:1:1 expected an object, got "It was a dark and stormy night; the rain fell in torrents\..*\.\.\. \(\d+ characters\)$/);
    expect((problems[0] as string).length).toBeLessThan(200);
  });
});

describe('hostile paths: only regular files, only up to the limit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'scenario-paths-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const problemOfFile = (path: string): string => {
    try {
      loadScenarioFile(path, dir);
    } catch (err) {
      if (err instanceof ScenarioError) return err.message;
      throw err;
    }
    throw new Error('expected the file to be refused');
  };

  it('a FIFO is refused at once (opening it would wait for a writer forever)', () => {
    const fifo = join(dir, 'pipe.yaml');
    execFileSync('mkfifo', [fifo]);
    expect(problemOfFile(fifo)).toBe('pipe.yaml:1:1 not a regular file (a FIFO); a scenario is a .yaml file');
  });

  it('a device such as /dev/zero is refused (it never ends)', () => {
    expect(problemOfFile('/dev/zero')).toMatch(/:1:1 not a regular file \(a device\); a scenario is a \.yaml file$/);
  });

  it('a directory is refused', () => {
    expect(problemOfFile(dir)).toMatch(/:1:1 not a regular file \(a directory\)/);
  });

  it('a file over the size limit is refused without reading it', () => {
    const big = join(dir, 'big.yaml');
    writeFileSync(big, '');
    truncateSync(big, 64 * 1024 * 1024); // sparse: 64 MiB that take no disk
    expect(problemOfFile(big)).toBe('big.yaml:1:1 67108864 bytes, more than the 1048576-byte limit (a scenario is a few KB)');
  });
});
