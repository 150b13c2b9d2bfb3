/**
 * The timeline people read in a terminal: one line per thing that happened, in scenario time, then the
 * verdict with every failure in plain words.
 *
 *     0.00s          caller: "What is the capital of France?"
 *     0.36s          request meta-llama/llama-3.3-70b-instruct:free -> 429 rate limited
 *     1.03s..1.87s   hold: "Hang on a sec."
 *
 * A fleet (`calls` > 1) gets a lane column: `call 3` for what that call's caller and agent did, `fleet` for the
 * key's requests (the fake's journal) and the rehearsal's Redis.
 */
import { printable, quoted } from '../../contract/printable.js';
import { clock, seconds } from '../check/words.js';
import type { Result } from '../result.js';
import { localOutcomeWords, outcomeWords } from './outcomes.js';
import { timelineOf, type TimelineItem } from './timeline.js';

const TIME_WIDTH = 16;

export function textTimeline(result: Result): string {
  const { scenario } = result;
  const when = result.recording.clock === 'virtual' ? 'virtual time' : `speed ${result.speed}`;
  const calls = result.calls ? `, ${result.calls.length} calls${scenario.staggerMs > 0 ? ` ${seconds(scenario.staggerMs)} apart` : ''}` : '';
  const lines = [`${scenario.name} (${when}, seed ${scenario.seed}${calls}): ${scenario.description}`, ''];
  const laneWidth = result.calls ? `call ${result.calls.length}`.length + 2 : 0;
  const lane = (item: TimelineItem) => (result.calls ? (item.call === undefined ? 'fleet' : `call ${item.call}`).padEnd(laneWidth) : '');
  for (const item of timelineOf(result)) lines.push(`  ${timeOf(item).padEnd(TIME_WIDTH)}${lane(item)}${describe(item)}`);
  lines.push('', verdict(result));
  return lines.join('\n');
}

function timeOf(item: TimelineItem): string {
  if (item.kind === 'redis') return `${clock(item.at)}..${clock(item.until)}`;
  return item.kind === 'speech' ? `${clock(item.at)}..${clock(item.end)}` : clock(item.at);
}

function describe(item: TimelineItem): string {
  switch (item.kind) {
    case 'caller':
      return `caller: ${quoted(item.text)}`;
    case 'request':
      return item.backend === 'local'
        ? `request local (llama.cpp) -> ${localOutcomeWords(item.outcome)}`
        : `request ${printable(item.model)} -> ${item.outcome} ${outcomeWords(item.outcome)}`;
    case 'policy':
      if (item.step === 'wait') return `  agent waits until ${seconds(item.until ?? item.at)} (${item.reason})`;
      if (item.step === 'apology') return `  agent gives up: ${item.reason}`;
      return `  agent drops the turn: ${item.reason}`;
    case 'silence':
      return `  silence: the turn ended with nothing said (the caller waited ${seconds(item.at - item.from)} for nothing)`;
    case 'speech':
      return `${item.source}: ${quoted(item.text)}${item.interrupted ? ' (cut off)' : ''}`;
    case 'redis':
      return `redis-server down (killed) until ${seconds(item.until)}: the calls decide on their own state`;
  }
}

export function verdict(result: Result): string {
  const heard = result.calls ? `${result.calls.length} calls, ${result.calls.reduce((n, c) => n + c.heard.length, 0)} utterance(s)` : `${result.heard.length} utterance(s)`;
  const summary = `${result.scenario.name}: ${heard}, ${result.requests.length} request(s) to OpenRouter`;
  // A late utterance that passed because the machine stalled says so, pass or fail: the next run may not be so lucky.
  const explained = result.explained.map((e) => `  ~ ${e}`);
  if (result.passed) return [`PASSED ${summary}`, ...explained].join('\n');
  return [`FAILED ${summary}`, ...result.failures.map((f) => `  - ${f}`), ...explained].join('\n');
}
