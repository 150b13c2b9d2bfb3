/**
 * The verdict of one rehearsal: what the caller heard, what the fake was asked, and every expectation that
 * failed, in plain words. `toJson` is the `--json` output, the one shape scripts may rely on.
 */
import type { Scenario } from '../contract/scenario/schema.js';
import { checkRequests, type RequestSeen } from './check/requests.js';
import { checkSpoken, type Heard } from './check/spoken.js';
import { checkTools } from './check/tools.js';
import type { Recording } from './play/rehearse.js';
import { explanation, latenessBefore, totalStallMs, type Lateness } from './check/lateness.js';

export interface Result {
  scenario: Scenario;
  speed: number;
  passed: boolean;
  /** Every utterance, in playback order. */
  heard: Heard[];
  /** Every chat completion request the fake received, in arrival order. */
  requests: RequestSeen[];
  failures: string[];
  /** Utterances that started after their window and passed because the processes' measured stalls explain it. */
  explained: string[];
  /** Wall ms the processes could not run during the rehearsal, summed (check/lateness.ts). */
  stallMs: number;
  recording: Recording;
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
}

export function judge(scenario: Scenario, speed: number, recording: Recording): Result {
  const heard = heardIn(recording);
  const requests = requestsIn(recording);
  const lateness: Lateness = {
    speed,
    originEpochMs: recording.originEpochMs,
    reports: recording.lateness,
    turnsAtMs: recording.turns.map((t) => t.atMs).sort((a, b) => a - b),
  };
  const explained: string[] = [];
  const allowance = { latenessBefore: (startMs: number) => latenessBefore(lateness, startMs), describe: (miss: number, by: number) => explanation(miss, by, speed), explained };
  const failures = [
    ...recording.problems, ...checkSpoken(scenario.expect.spoken, heard, allowance), ...checkRequests(scenario.expect.requests, requests),
    ...checkTools(scenario.expect.tools, recording.events),
  ];
  const stallMs = Math.round(totalStallMs(lateness));
  return { scenario, speed, passed: failures.length === 0, heard, requests, failures, explained, stallMs, recording };
}

export function heardIn(recording: Recording): Heard[] {
  return recording.events
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
  };
}
