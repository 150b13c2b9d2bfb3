/**
 * `npm run bench:hostile`: what hostile input costs now that it is bounded. A benchmark, not a test: numbers, never
 * pass/fail (the tests check the bounds by structure: comparisons counted, problems returned, entries clipped).
 * Writes bench/results/hostile.json.
 *
 * 1. Model globs: `*a*a*...*b` (25 stars) against a 4 MiB id, and for contrast the regular expression the fake
 *    used before on a 3-star pattern and a 300-character id (25 stars would not finish).
 * 2. Scenarios: a billion-laughs alias bomb, 1 MiB of aliases, 1 MiB of plain YAML: time to the one problem.
 * 3. The journal: heap kept after 200 requests each carrying a 1 MiB model id (before: all 200 MiB).
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { matchesGlob } from '../contract/glob.js';
import { parseScenario, ScenarioError } from '../contract/scenario/load.js';
import { makeScenario, KEY } from '../fakes/openrouter/testing.js';
import { startFake } from '../fakes/openrouter/server.js';

const round = (n: number) => Math.round(n * 100) / 100;

function timed<T>(fn: () => T): { ms: number; value: T } {
  const start = performance.now();
  const value = fn();
  return { ms: round(performance.now() - start), value };
}

function problemOf(text: string): string {
  try {
    parseScenario(text, 'bench.yaml');
    return '(accepted)';
  } catch (err) {
    if (err instanceof ScenarioError) return err.message;
    throw err;
  }
}

function globs() {
  const id = 'a'.repeat(4 * 1024 * 1024);
  const pattern = `${'*a'.repeat(25)}*b*`;
  const work = { comparisons: 0 };
  const now = timed(() => matchesGlob(pattern, id, work));
  const small = 'a'.repeat(300);
  const before = timed(() => /^.*a.*a.*a.*b$/.test(small));
  const nowSmall = timed(() => matchesGlob('*a*a*a*b', small));
  return {
    pattern,
    idChars: id.length,
    ms: now.ms,
    comparisons: work.comparisons,
    contrast: { pattern: '*a*a*a*b', idChars: small.length, regexMs: before.ms, globMs: nowSmall.ms },
  };
}

function scenarios() {
  const head = 'name: t\ndescription: d\nagent: { models: [a/b] }\n';
  const laughs = `${head}x:\n  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n${Array.from({ length: 9 }, (_, i) => `  l${i + 1}: &l${i + 1} [${Array(10).fill(`*l${i}`).join(', ')}]`).join('\n')}\n`;
  const aliases = `${head}x: &a y\nmany: [${Array(250_000).fill('*a').join(',')}]\n`;
  const plain = `${head}notes:\n${Array.from({ length: 40_000 }, (_, i) => `  - note ${i} abcdefgh`).join('\n')}\n`.slice(0, 1024 * 1024);
  return Object.fromEntries(
    Object.entries({ billionLaughs: laughs, megabyteOfAliases: aliases, megabyteOfYaml: plain }).map(([name, text]) => {
      const { ms, value } = timed(() => problemOf(text));
      return [name, { bytes: Buffer.byteLength(text), ms, problem: value.split('\n')[0]?.slice(0, 120) }];
    }),
  );
}

async function journal() {
  const gc = (globalThis as { gc?: () => void }).gc;
  const fake = await startFake({ scenario: makeScenario(), log: pino({ level: 'silent' }) });
  gc?.();
  const before = process.memoryUsage().heapUsed;
  const model = `x/${'y'.repeat(1024 * 1024)}`;
  const body = JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] });
  for (let i = 0; i < 200; i++) {
    const res = await fetch(`${fake.baseURL}/chat/completions`, { method: 'POST', headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' }, body });
    await res.arrayBuffer();
  }
  gc?.();
  const after = process.memoryUsage().heapUsed;
  const entries = fake.journal().entries.length;
  await fake.close();
  return { requests: 200, modelIdBytes: model.length, entries, heapKeptMB: gc ? round((after - before) / 1024 / 1024) : 'run with --expose-gc' };
}

const results = {
  at: new Date().toISOString(),
  machine: { cpus: cpus().length, loadavg: loadavg().map(round) },
  globs: globs(),
  scenarios: scenarios(),
  journal: await journal(),
};
const out = join(dirname(fileURLToPath(import.meta.url)), 'results/hostile.json');
writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
console.log(JSON.stringify(results, null, 2));
console.log(`written to ${out}`);
