/**
 * Forgiving a late utterance only when the machine explains it. Rehearsal time is wall time times `--speed`,
 * so a process that could not run for 30 ms at speed 10 makes everything after it 0.3 s late. Each process
 * (runner, fake, agent) measures its own stalls (contract/lateness.ts); an utterance that started after its
 * window passes only when the stalls the processes measured between the caller's turn that caused it and its
 * start add up to at least the miss, and the result says so. An early utterance, a wrong text or source, and a
 * late one on a quiet machine still fail: a stall can delay, never hasten or change what was said.
 */
import { stalledBetween, type LatenessReport } from '../../contract/lateness.js';
import { seconds } from './words.js';

export interface Lateness {
  speed: number;
  /** Wall instant of scenario time 0 (epoch ms). */
  originEpochMs: number;
  /** One report per process that answered (deduplicated by meter id). */
  reports: LatenessReport[];
  /** Scenario times of the caller's turns, ascending. */
  turnsAtMs: number[];
}

/** Scenario ms of stall the processes measured between the last caller turn at or before `startMs` and `startMs`. */
export function latenessBefore(lateness: Lateness, startMs: number): number {
  const cause = lateness.turnsAtMs.filter((t) => t <= startMs).at(-1) ?? 0;
  const wall = (ms: number) => lateness.originEpochMs + ms / lateness.speed;
  const stalled = lateness.reports.reduce((sum, r) => sum + stalledBetween(r.stalls, wall(cause), wall(startMs)), 0);
  return stalled * lateness.speed;
}

/** Total wall ms of stall the processes measured during the rehearsal (for the report). */
export function totalStallMs(lateness: Lateness): number {
  return lateness.reports.reduce((sum, r) => sum + stalledBetween(r.stalls, lateness.originEpochMs, Number.POSITIVE_INFINITY), 0);
}

/** `0.24 s after its window: the processes could not run for 31 ms since the caller's turn (0.31 s at speed 10)` */
export function explanation(missMs: number, explainedMs: number, speed: number): string {
  return `${seconds(missMs)} after its window; the processes could not run for ${Math.round(explainedMs / speed)} ms since the caller's turn (${seconds(explainedMs)} at speed ${speed})`;
}
