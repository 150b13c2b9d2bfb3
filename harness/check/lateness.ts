/**
 * Forgiving a late utterance only when the machine explains it. Rehearsal time is wall time times `--speed`,
 * so a process that could not run for 30 ms at speed 10 makes everything after it 0.3 s late. Each process
 * (runner, fake, agent) measures its own stalls (contract/lateness.ts); an utterance that started after its
 * window passes only when the time at least one process could not run, between the caller's turn that caused it
 * and its start (the union of their stalls, not their sum), is at least the miss, and the result says so. An early utterance, a wrong text or source, and a
 * late one on a quiet machine still fail: a stall can delay, never hasten or change what was said.
 */
import { stalledBetween, type LatenessReport, type Stall } from '../../contract/lateness.js';
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
  return stalledBetween(unionOf(lateness.reports), wall(cause), wall(startMs)) * lateness.speed;
}

/** Total wall ms during the rehearsal when at least one process could not run (for the report). */
export function totalStallMs(lateness: Lateness): number {
  return stalledBetween(unionOf(lateness.reports), lateness.originEpochMs, Number.POSITIVE_INFINITY);
}

/**
 * The stalls of every process as one set of intervals: on a starved machine the runner, the fake and the agent
 * are often stalled at the same moment, and that moment delays the rehearsal once, not once per process.
 */
export function unionOf(reports: readonly LatenessReport[]): Stall[] {
  const intervals = reports.flatMap((r) => r.stalls.map(([end, late]) => [end - late, end] as [number, number])).sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const [from, to] of intervals) {
    const last = merged.at(-1);
    if (last && from <= last[1]) last[1] = Math.max(last[1], to);
    else merged.push([from, to]);
  }
  return merged.map(([from, to]) => [to, to - from]);
}

/** `0.24 s after its window: the processes could not run for 31 ms since the caller's turn (0.31 s at speed 10)` */
export function explanation(missMs: number, explainedMs: number, speed: number): string {
  return `${seconds(missMs)} after its window; the processes could not run for ${Math.round(explainedMs / speed)} ms since the caller's turn (${seconds(explainedMs)} at speed ${speed})`;
}
