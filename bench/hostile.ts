/**
 * `npm run bench:hostile`: what hostile input costs now that it is bounded. A benchmark, not a test: numbers, never
 * pass/fail (the tests check the bounds by structure: comparisons counted, problems returned, entries clipped).
 * Writes bench/results/hostile.json.
 *
 * 1. Model globs: `*a*a*...*b` (25 stars) against a 4 MiB id, and for contrast the regular expression the fake
 *    used before on a 3-star pattern and a 300-character id (25 stars would not finish).
 * 2. Scenarios: a billion-laughs alias bomb, 1 MiB of aliases, 1 MiB of plain YAML: time to the one problem.
 * 3. The journal: heap kept after 200 requests each carrying a 1 MiB model id (before: all 200 MiB).
 * 4. The free-model quota's accounts: 12,000 requests each with a key of its own (the first key is forgotten: the fake
 *    keeps the 10,000 most recently used), and the heap the accounts keep after 10,000 and after 1,000,000 keys.
 * 5. The agent's `GET /events`: 1,000 turns of history, then 300 subscribers that connect and never read (raw
 *    sockets, paused: what the server buffers for them is what it holds), and one that reads it all in pages.
 */
import { writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { matchesGlob } from '../contract/glob.js';
import { parseScenario, ScenarioError } from '../contract/scenario/load.js';
import { makeScenario, KEY, MODEL_A } from '../fakes/openrouter/testing.js';
import { Accounts, ACCOUNTS_MAX_KEYS } from '../fakes/openrouter/quota/accounts.js';
import { freeLimits } from '../fakes/openrouter/quota/free-quota.js';
import { startFake } from '../fakes/openrouter/server.js';
import { subscribeEvents } from '../contract/event-stream.js';
import { startRehearsal } from '../src/rehearsal/server.js';

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

/** Heap an `Accounts` book keeps after `keys` distinct keys have each made one free request (after a GC). */
function accountsHeapMB(keys: number): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = process.memoryUsage().heapUsed;
  const book = new Accounts();
  const limits = freeLimits(10);
  for (let i = 0; i < keys; i++) book.free(`key_${i.toString(16).padStart(12, '0')}`, limits, 0, true);
  gc?.();
  const kept = process.memoryUsage().heapUsed - before;
  if (book.size !== Math.min(keys, ACCOUNTS_MAX_KEYS)) throw new Error(`expected ${Math.min(keys, ACCOUNTS_MAX_KEYS)} accounts, found ${book.size}`);
  return gc ? round(kept / 1024 / 1024) : Number.NaN;
}

/**
 * The free-model quota under a flood of made-up keys: through HTTP, 12,000 requests each with a key of its own
 * (the first key is forgotten: its `/key` count is 0 again); in process, the heap the accounts keep after 10,000 and
 * after 1,000,000 distinct keys (the same: the book holds the 10,000 most recently used).
 */
async function keys() {
  const fake = await startFake({ scenario: makeScenario({ reply: { text: 'ok', ttft: '0ms', tokensPerSecond: 1_000_000 } }), log: pino({ level: 'silent' }) });
  const requests = 12_000;
  const body = JSON.stringify({ model: MODEL_A, messages: [{ role: 'user', content: 'hi' }] });
  const start = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < requests) {
      const i = next++;
      const res = await fetch(`${fake.baseURL}/chat/completions`, { method: 'POST', headers: { Authorization: `Bearer sk-or-v1-flood-${i}`, 'Content-Type': 'application/json' }, body });
      await res.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  const ms = performance.now() - start;
  const used = async (i: number) => {
    const res = await fetch(`${fake.baseURL}/key`, { headers: { Authorization: `Bearer sk-or-v1-flood-${i}` } });
    return ((await res.json()) as { data: { free_model_daily_requests: { used: number } } }).data.free_model_daily_requests.used;
  };
  const firstKeyUsed = await used(0);
  const lastKeyUsed = await used(requests - 1);
  await fake.close();
  return {
    requests,
    requestsPerSecond: round(requests / (ms / 1000)),
    firstKeyUsedAfter: firstKeyUsed,
    lastKeyUsedAfter: lastKeyUsed,
    keysKept: ACCOUNTS_MAX_KEYS,
    heapMBAfter10000Keys: accountsHeapMB(10_000),
    heapMBAfter1000000Keys: accountsHeapMB(1_000_000),
  };
}

async function events() {
  const gc = (globalThis as { gc?: () => void }).gc;
  const agent = await startRehearsal({
    speed: 1000,
    log: pino({ level: 'silent' }),
    env: { OPENROUTER_API_KEY: 'sk-or-v1-bench', OPENROUTER_BASE_URL: 'http://127.0.0.1:9/api/v1', LLM_MODEL: 'a/b', LOCAL_LLM_BASE_URL: 'http://127.0.0.1:9/v1', LOG_LEVEL: 'silent' },
    // Answers at once: the bench fills the history, it does not measure the chain.
    runAttempt: async (request) => {
      request.onChunk({ id: 'bench', delta: { role: 'assistant', content: 'ok' } });
      return { cancelled: false, textSent: true, status: 200, ttftMs: 1 };
    },
  });
  const feed = subscribeEvents(`${agent.url}/events`);
  for (let i = 1; i <= 1000; i++) {
    await fetch(`${agent.url}/turns`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: `turn ${i}` }) });
    await feed.waitFor((e) => e.type === 'turn_end' && e.turnId === `turn-${i}`);
  }
  const history = feed.all.length;
  feed.close();
  gc?.();
  const rssBefore = process.memoryUsage().rss;
  const { port } = agent;
  const sockets: Socket[] = [];
  const answered: string[] = [];
  await Promise.all(
    Array.from({ length: 300 }, () =>
      new Promise<void>((resolve) => {
        const socket = connect(port, '127.0.0.1', () => socket.write(`GET /events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`));
        sockets.push(socket);
        // The status line, then stop reading: the rest stays in the kernel and the server's buffers.
        socket.once('data', (chunk: Buffer) => {
          answered.push(chunk.toString('latin1', 9, 12));
          socket.pause();
          resolve();
        });
        socket.on('error', () => resolve());
      }),
    ),
  );
  await new Promise((resolve) => setTimeout(resolve, 1000)); // a bench, not a test: let the writes settle
  gc?.();
  const rssWith300 = process.memoryUsage().rss;
  for (const socket of sockets) socket.destroy();

  const start = performance.now();
  const reader = subscribeEvents(`${agent.url}/events`);
  await reader.waitFor((_e, i) => i === history - 1, { timeoutMs: 60_000 });
  const readAllMs = round(performance.now() - start);
  reader.close();
  await agent.close();
  const count = (status: string) => answered.filter((s) => s === status).length;
  return {
    historyEvents: history,
    subscribers: 300,
    accepted: count('200'),
    refused503: count('503'),
    rssGrowthMB: round((rssWith300 - rssBefore) / 1024 / 1024),
    oneReaderAllEventsMs: readAllMs,
  };
}

const results = {
  at: new Date().toISOString(),
  machine: { cpus: cpus().length, loadavg: loadavg().map(round) },
  globs: globs(),
  scenarios: scenarios(),
  journal: await journal(),
  keys: await keys(),
  events: await events(),
};
const out = join(dirname(fileURLToPath(import.meta.url)), 'results/hostile.json');
writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
console.log(JSON.stringify(results, null, 2));
console.log(`written to ${out}`);
