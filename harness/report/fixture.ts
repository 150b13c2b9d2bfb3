/** A small, fixed rehearsal result for the report tests: a rate-limit storm with one failure. */
import type { AgentEvent } from '../../contract/events.js';
import type { JournalEntry } from '../../contract/journal.js';
import { parseScenario } from '../../contract/scenario/load.js';
import type { Source } from '../../contract/scenario/schema.js';
import { judge, type Result } from '../result.js';

const META = 'meta-llama/llama-3.3-70b-instruct:free';

export function stormResult(): Result {
  const scenario = parseScenario(
    `name: storm
description: Every model is rate-limited <for a while> & then answers.
agent: { models: ["${META}", "qwen/qwen-2.5-72b-instruct:free"] }
user: [{ at: 0s, say: "What is the capital of France?" }]
expect:
  spoken:
    - { text: "Hang on a sec.", source: hold, start: [0s, 1s] }
    - { text: "Paris is the capital of France.", source: "openrouter:${META}", start: [2s, 3s] }
`,
    'storm.yaml',
  );
  const entry = (seq: number, at: number, model: string, outcome: JournalEntry['outcome'], durationMs: number | null): JournalEntry => ({
    seq,
    at,
    method: 'POST',
    key: 'key_3f9a0c1b2d4e',
    path: '/api/v1/chat/completions',
    model,
    servedBy: model,
    stream: true,
    rule: 0,
    ruleText: '',
    outcome,
    ttfbMs: 1,
    durationMs,
  });
  const e = { epochMs: 0, turnId: 'turn-1' };
  const events: AgentEvent[] = [
    { ...e, type: 'turn', at: 10, text: 'What is the capital of France?' },
    { ...e, type: 'attempt', at: 90, pass: 1, backend: 'local', model: 'local', outcome: 'connection', latencyMs: 5 },
    { ...e, type: 'policy', at: 95, step: 'wait', until: 2080, reason: 'backoff 1000 ms, pass 2 next' },
    { ...e, type: 'utterance', at: 944, text: 'Hang on a sec.', source: 'hold', start: 104, end: 944, interrupted: false },
    { ...e, type: 'utterance', at: 10_311, text: 'Paris is the capital of France.', source: `openrouter:${META}`, start: 8451, end: 10_311, interrupted: false },
  ];
  const journal = {
    originEpochMs: 0,
    speed: 10,
    entries: [entry(1, 60, META, '429', 9), entry(2, 82, 'qwen/qwen-2.5-72b-instruct:free', '429', 3), entry(3, 8100, META, '200', 335)],
    dropped: 0,
  };
  return judge(scenario, 10, { events, journal, turns: [{ atMs: 0, say: 'What is the capital of France?', acceptedAt: 3 }], originEpochMs: 0, problems: [], lateness: [], clock: 'wall' });
}

/** A fleet of two calls a second apart, one model storming, Redis down for a while; call 2 hears a hold. */
export function fleetResult(): Result {
  const scenario = parseScenario(
    `name: fleet
description: Two calls on one key.
agent: { models: ["${META}", "qwen/qwen-2.5-72b-instruct:free"], redis: { down: { at: 500ms, for: 1s } } }
calls: 2
stagger: 1s
user: [{ at: 0s, say: "What is the capital of France?" }]
expect:
  spoken:
    - { text: "Paris is the capital of France.", start: [0s, 1s] }
`,
    'fleet.yaml',
  );
  const answer = (turnId: string, start: number, text = 'Paris is the capital of France.', source: Source = 'openrouter:qwen/qwen-2.5-72b-instruct:free'): AgentEvent[] => [
    { epochMs: 0, turnId, type: 'turn', at: start - 100, text: 'What is the capital of France?' },
    { epochMs: 0, turnId, type: 'utterance', at: start + 800, text, source, start, end: start + 800, interrupted: false },
  ];
  const entry = (seq: number, at: number, model: string, outcome: JournalEntry['outcome']): JournalEntry => ({
    seq, at, method: 'POST', key: 'key_3f9a0c1b2d4e', path: '/api/v1/chat/completions', model, servedBy: model, stream: true, rule: null, ruleText: '', outcome, ttfbMs: 1, durationMs: 5,
  });
  const journal = { originEpochMs: 0, speed: 1, entries: [entry(1, 50, META, '429'), entry(2, 60, 'qwen/qwen-2.5-72b-instruct:free', '200'), entry(3, 1060, 'qwen/qwen-2.5-72b-instruct:free', '200')], dropped: 0 };
  const turn = (atMs: number) => [{ atMs, say: 'What is the capital of France?', acceptedAt: atMs + 2 }];
  const calls = [
    { call: 1, offsetMs: 0, events: answer('turn-1', 300), turns: turn(0) },
    { call: 2, offsetMs: 1000, events: answer('turn-1', 1200, 'Hang on a sec.', 'hold'), turns: turn(1000) },
  ];
  return judge(scenario, 1, { events: calls[0]?.events ?? [], journal, turns: turn(0), calls, redisOutages: [{ at: 500, until: 1500 }], originEpochMs: 0, problems: [], lateness: [], clock: 'wall' });
}
