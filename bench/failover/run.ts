/**
 * One benchmark cell: one outage, one contender, a conversation of a few turns at speed 1, then what the caller
 * heard and what reached the fake. Speed 1 because FallbackAdapter's timers (attemptTimeout, retryInterval,
 * the session's retry interval) run on the wall clock: at any other speed the outage and the contender would
 * disagree about time, and the latencies would need correcting.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LlamaServer } from '../../tools/llama/index.js';
import { downBaseURL } from '../../tools/llama/testing/down.js';
import { countRequests, type RequestCounts } from '../lib/requests.js';
import { startRig } from '../../test/kit/rig.js';
import { spread, type Spread } from '../lib/stats.js';
import { hearTurns, playTurn, type HeardTurn, type PlayedTurn } from '../../test/kit/turns.js';
import type { Contender } from './contenders.js';
import { fakeScenario, LOCAL_MODEL, type BenchScenario } from './scenarios.js';

/** What the caller says, turn after turn (the fake answers the same sentence to all). */
export const QUESTIONS = [
  'What is the capital of France?',
  'And how many people live there?',
  'What is the weather like in spring?',
  'Which museum should I visit first?',
  'How do I get there from the airport?',
];

export interface CellOptions {
  bench: BenchScenario;
  contender: Contender;
  turns: number;
  /** Wall ms the caller pauses after each turn before speaking again. */
  gapMs: number;
  apiKey: string;
  /** The running llama-server, for scenarios with `local: 'llama'`. */
  llama?: LlamaServer;
  holdMessage: string;
  apologyMessage: string;
  /** A folder to write each cell's agent events to (`<scenario>.<contender>.events.json`), to trace a row. */
  eventsDir?: string;
}

export interface CellSummary {
  turns: number;
  answered: number;
  apologies: number;
  /** Turns that ended with neither an answer nor the apology (cut-off turns included). */
  silent: number;
  cutOff: number;
  holds: number;
  closes: number;
  /** Scenario ms (= wall ms at speed 1) from the end of the user's turn to the first audio, over turns with audio. */
  firstAudioMs?: Spread;
  /** The same, to the first audio of an answer. */
  answerMs?: Spread;
  requests: RequestCounts;
  /** Hedged requests: second requests holdline started for a late first token (the others never hedge). */
  hedged: number;
  /**
   * Scenario ms from the outage's end (`endsAtMs`) to the first answer heard after it, for outages that end;
   * undefined when nothing was answered after the end.
   */
  recoveryMs?: number;
  /** Wall ms from the first turn to the end of the last. */
  wallMs: number;
}

export interface CellResult {
  scenario: string;
  contender: Contender['id'];
  summary: CellSummary;
  turns: Omit<HeardTurn, 'spoken'>[];
}

export async function runCell(options: CellOptions): Promise<CellResult> {
  const { bench, contender } = options;
  const scenario = fakeScenario(bench);
  if (bench.local === 'llama' && !options.llama) throw new Error(`${bench.id} needs the llama-server`);
  const local =
    bench.local === 'llama' && options.llama
      ? { baseURL: options.llama.baseURL, model: options.llama.alias }
      : bench.local === 'fake'
        ? { baseURL: 'fake', model: LOCAL_MODEL }
        : { baseURL: await downBaseURL() };
  const rig = await startRig({
    scenario,
    speed: 1,
    apiKey: options.apiKey,
    local,
    ...(contender.contender && { contender: contender.contender }),
    ...((contender.env || bench.env) && { env: { ...bench.env, ...contender.env } }),
    logLevel: 'info',
  });
  try {
    const played: PlayedTurn[] = [];
    const started = Date.now();
    for (let index = 0; index < options.turns; index++) {
      const text = QUESTIONS[index % QUESTIONS.length] as string;
      played.push(await playTurn({ agentUrl: rig.agent.url, events: rig.events, index, text, capWallMs: bench.capMs }));
      if (index < options.turns - 1) await sleep(options.gapMs);
    }
    const wallMs = Date.now() - started;
    if (options.eventsDir) writeFileSync(join(options.eventsDir, `${bench.id}.${contender.id}.events.json`), `${JSON.stringify(rig.events.all, null, 1)}\n`);
    const heard = hearTurns(played, rig.events.all, { hold: options.holdMessage, apology: options.apologyMessage });
    const summary: CellSummary = {
      turns: heard.length,
      answered: heard.filter((t) => t.outcome === 'answered').length,
      apologies: heard.filter((t) => t.outcome === 'apology').length,
      silent: heard.filter((t) => t.outcome === 'silence').length,
      cutOff: heard.filter((t) => t.ended === 'cap').length,
      holds: heard.filter((t) => t.held).length,
      closes: rig.events.all.filter((e) => e.type === 'close').length,
      ...optional('firstAudioMs', spread(heard.map((t) => t.firstAudioMs))),
      ...optional('answerMs', spread(heard.map((t) => t.answerMs))),
      requests: countRequests(rig.fake.journal(), scenario),
      hedged: rig.events.all.filter((e) => e.type === 'attempt' && e.hedge === true).length,
      ...optional('recoveryMs', recoveryMs(bench, heard)),
      wallMs,
    };
    return { scenario: bench.id, contender: contender.id, summary, turns: heard.map(({ spoken: _s, ...turn }) => turn) };
  } finally {
    await rig.close();
  }
}

/** From the outage's end to the first answer that started after it (scenario ms, one clock with the fake's). */
function recoveryMs(bench: BenchScenario, heard: readonly HeardTurn[]): number | undefined {
  if (bench.endsAtMs === undefined) return undefined;
  const end = bench.endsAtMs;
  const starts = heard.flatMap((t) => (t.answerMs !== undefined ? [t.at + t.answerMs] : [])).filter((at) => at >= end);
  return starts.length > 0 ? Math.round(Math.min(...starts) - end) : undefined;
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}
