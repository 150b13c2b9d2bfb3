/**
 * Fuzzing scenario loading: whatever the text or the data, `parseScenario` returns a scenario or throws a
 * `ScenarioError` whose problems each name a place and fit on one line. Anything else (a TypeError, a
 * RangeError, a hang) is a bug. Seeds are fixed, so a failure replays; fast-check prints the smallest input.
 */
import fc from 'fast-check';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseScenario, ScenarioError } from './load.js';

/** Parses, and checks that a refusal is a clear one. */
function loadsOrExplains(text: string): void {
  try {
    parseScenario(text, 'fuzz.yaml');
  } catch (err) {
    if (!(err instanceof ScenarioError)) throw err;
    expect(err.problems.length).toBeGreaterThan(0);
    for (const p of err.problems) {
      expect(p.line).toBeGreaterThanOrEqual(1);
      expect(p.column).toBeGreaterThanOrEqual(1);
      expect(`${p.path}: ${p.message}`).not.toMatch(/[\n\r]/);
      expect(p.message.length).toBeLessThan(1000);
    }
  }
}

/** YAML's moving parts, so random text reaches anchors, aliases, tags, flow and block collections, documents. */
const yamlPiece = fc.constantFrom(
  'name: t\n', 'description: d\n', 'agent:\n', '  models: [a/b]\n', 'fake:\n', '  rules:\n', '    - then: hang\n', 'user:\n',
  '&a ', '*a', '&b ', '*b', '<<: *a\n', '!!str ', '!!int ', '!!binary ', '!tag ', '? ', ': ', '- ', '[', ']', '{', '}', ',', '"', "'",
  '|\n', '>-\n', '#', '\t', '  ', '\n', '---\n', '...\n', '%YAML 1.2\n', '%TAG ! tag:x:\n', 'x', '2s', '-1', '1e300', 'null', '~',
  'true', '0x1F', '.nan', '\u0000', '\uFEFF', '\u202E', '\r\n',
);
const yamlText = fc.array(yamlPiece, { maxLength: 60 }).map((pieces) => pieces.join(''));

const VALID = {
  name: 'fuzz',
  description: 'd',
  seed: 1,
  agent: { models: ['a/b'] },
  fake: { reply: { text: 'hi', ttft: '10ms' }, rules: [{ when: { model: '*', nth: [1] }, then: { error: 'rate-limit-per-minute', retryAfter: '2s' } }] },
  user: [{ at: '1s', say: 'hello' }],
  expect: { spoken: [{ text: 'hi', source: 'openrouter:a/b' }] },
};
/** Places in a valid scenario to put an arbitrary value. */
const PATHS: (string | number)[][] = [
  ['name'], ['seed'], ['agent'], ['agent', 'models'], ['agent', 'models', 0], ['fake'], ['fake', 'reply'], ['fake', 'reply', 'ttft'],
  ['fake', 'rules'], ['fake', 'rules', 0], ['fake', 'rules', 0, 'when'], ['fake', 'rules', 0, 'when', 'nth'], ['fake', 'rules', 0, 'then'],
  ['fake', 'rules', 0, 'then', 'error'], ['fake', 'rules', 0, 'then', 'headers'], ['fake', 'startsAt'], ['user'], ['user', 0, 'at'], ['expect'],
  ['expect', 'spoken', 0], ['unknown'],
];

function withValueAt(path: (string | number)[], value: unknown): unknown {
  const doc = structuredClone(VALID) as Record<string | number, unknown>;
  let node = doc;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[path[path.length - 1] as string | number] = value;
  return doc;
}

const PARAMS = { seed: 11, numRuns: 400 };

describe('fuzzing scenario loading: a scenario or a ScenarioError, nothing else', () => {
  it('any text', () => {
    fc.assert(fc.property(fc.string({ maxLength: 400, unit: 'binary' }), loadsOrExplains), PARAMS);
  });

  it('text built from YAML syntax (anchors, aliases, tags, flow, documents)', () => {
    fc.assert(fc.property(yamlText, loadsOrExplains), PARAMS);
  });

  it('a valid scenario with any value at any place', () => {
    fc.assert(
      fc.property(fc.constantFrom(...PATHS), fc.jsonValue({ maxDepth: 4 }), (path, value) => loadsOrExplains(stringify(withValueAt(path, value)))),
      PARAMS,
    );
  });

  it('a status fault with any headers', () => {
    const headers = fc.dictionary(fc.string({ maxLength: 20, unit: 'binary' }), fc.oneof(fc.string({ maxLength: 20, unit: 'binary' }), fc.jsonValue({ maxDepth: 1 })), { maxKeys: 5 });
    fc.assert(
      fc.property(headers, (h) => loadsOrExplains(stringify(withValueAt(['fake', 'rules', 0, 'then'], { status: 503, headers: h })))),
      PARAMS,
    );
  });

  it('any object at all', () => {
    fc.assert(fc.property(fc.object({ maxDepth: 4 }), (doc) => loadsOrExplains(stringify(doc))), PARAMS);
  });
});
