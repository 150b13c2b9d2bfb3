/**
 * The verdict of one rehearsal: what the caller heard, what the fake was asked, and every expectation that
 * failed, in plain words. `toJson` is the `--json` output, the one shape scripts may rely on.
 *
 * A fleet (`calls: N`) is judged call by call: every call must hear `expect.spoken` (shifted by its stagger) and
 * run `expect.tools`, and each failure names its call; `expect.requests` counts the fleet's requests (one key,
 * the fake's journal).
 */
import type { Scenario } from '../contract/scenario/schema.js';
import { checkRequests, type RequestSeen } from './check/requests.js';
import { checkSpoken, type Heard } from './check/spoken.js';
import { checkTools } from './check/tools.js';
import { callsOf, type Recording } from './play/rehearse.js';
import type { AgentEvent } from '../contract/events.js';
import { explanation, latenessBefore, totalStallMs, type Lateness } from './check/lateness.js';

export interface Result {
  scenario: Scenario;
  speed: number;
  passed: boolean;
  /** Every utterance call 1 heard (the only call unless `calls`), in playback order. */
  heard: Heard[];
  /** A fleet (`calls` > 1): what each call heard, call 1 included, in call order. */
  calls?: CallResult[];
  /** Every chat completion request the fake received, in arrival order. */
  requests: RequestSeen[];
  failures: string[];
  /** Utterances that started after their window and passed because the processes' measured stalls explain it. */
  explained: string[];
  /** Wall ms the processes could not run during the rehearsal, summed (check/lateness.ts). */
  stallMs: number;
  recording: Recording;
}

/** One call of a fleet: what its caller heard (times on the rehearsal's one timeline, stagger included). */
export interface CallResult {
  call: number;
  offsetMs: number;
  heard: Heard[];
}

/** What `--json` prints: exactly these keys, times in scenario ms. */
export interface ResultJson {
  scenario: string;
  passed: boolean;
  speed: number;
  spoken: { text: string; source: string; start: number; end: number }[];
  requests: { at: number; model: string; outcome: string }[];
  failures: string[];
  /**
   * Time is wall time times `speed`: `stallMs` is how long the processes could not run (summed over them), and
   * `explained` lists each late utterance that passed because those stalls explain its lateness.
   */
  timing: { clock: 'wall' | 'virtual'; stallMs: number; explained: string[] };
  /** A fleet only (`calls` > 1): what each call heard; `spoken` above is call 1's, `requests` the fleet's. */
  calls?: { call: number; spoken: ResultJson['spoken'] }[];
}

export function judge(scenario: Scenario, speed: number, recording: Recording): Result {
  const requests = requestsIn(recording);
  const fleet = recording.calls !== undefined;
  const lateness: Lateness = {
    speed,
    originEpochMs: recording.originEpochMs,
    reports: recording.lateness,
    turnsAtMs: callsOf(recording).flatMap((call) => call.turns.map((t) => t.atMs)).sort((a, b) => a - b),
  };
  const explained: string[] = [];
  const spokenFailures: string[] = [];
  const toolFailures: string[] = [];
  const calls = callsOf(recording).map((call): CallResult => {
    const heard = heardOf(call.events);
    const who = fleet ? `call ${call.call}: ` : '';
    const mine: string[] = [];
    const allowance = { latenessBefore: (startMs: number) => latenessBefore(lateness, startMs), describe: (miss: number, by: number) => explanation(miss, by, speed), explained: mine };
    spokenFailures.push(...checkSpoken(shifted(scenario.expect.spoken, call.offsetMs), heard, allowance).map((f) => `${who}${f}`));
    // In a fleet each call's tool failures follow its spoken ones, so a call's story reads in one place.
    (fleet ? spokenFailures : toolFailures).push(...checkTools(scenario.expect.tools, call.events).map((f) => `${who}${f}`));
    explained.push(...mine.map((e) => `${who}${e}`));
    return { call: call.call, offsetMs: call.offsetMs, heard };
  });
  const failures = [...recording.problems, ...spokenFailures, ...checkRequests(scenario.expect.requests, requests), ...toolFailures];
  const stallMs = Math.round(totalStallMs(lateness));
  return { scenario, speed, passed: failures.length === 0, heard: calls[0]?.heard ?? [], ...(fleet && { calls }), requests, failures, explained, stallMs, recording };
}

/** A call's expected start windows, moved by its stagger. */
function shifted(spoken: Scenario['expect']['spoken'], offsetMs: number): Scenario['expect']['spoken'] {
  if (offsetMs === 0) return spoken;
  return spoken.map((want) => (want.startMs ? { ...want, startMs: [want.startMs[0] + offsetMs, want.startMs[1] + offsetMs] as [number, number] } : want));
}

export function heardIn(recording: Recording): Heard[] {
  return heardOf(recording.events);
}

function heardOf(events: readonly AgentEvent[]): Heard[] {
  return events
    .flatMap((e) => (e.type === 'utterance' ? [{ text: e.text, source: e.source, start: e.start, end: e.end, interrupted: e.interrupted }] : []))
    .sort((a, b) => a.start - b.start);
}

/** Chat completion requests only: the catalog and key lookups are not what a scenario counts. */
export function requestsIn(recording: Recording): RequestSeen[] {
  return recording.journal.entries
    .filter((e) => e.path.endsWith('/chat/completions'))
    .map((e) => ({ at: e.at, model: e.model ?? '(no model)', outcome: e.outcome }));
}

export function toJson(result: Result): ResultJson {
  return {
    scenario: result.scenario.name,
    passed: result.passed,
    speed: result.speed,
    spoken: result.heard.map(({ text, source, start, end }) => ({ text, source, start, end })),
    requests: result.requests.map(({ at, model, outcome }) => ({ at, model, outcome })),
    failures: result.failures,
    timing: { clock: result.recording.clock, stallMs: result.stallMs, explained: result.explained },
    ...(result.calls && { calls: result.calls.map(({ call, heard }) => ({ call, spoken: heard.map(({ text, source, start, end }) => ({ text, source, start, end })) })) }),
  };
}
