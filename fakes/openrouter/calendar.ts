/**
 * OpenRouter's calendar during a scenario: where scenario time 0 falls on it (`fake.startsAt`, or the clock's wall
 * origin), so the free-model windows and every X-RateLimit-Reset land on its minutes and UTC midnights, and the
 * wall-clock instant at which a calendar instant happens at the current `--speed` (what a reset header must say).
 */
import type { Clock } from '../../contract/clock.js';

export interface Calendar {
  /** Calendar epoch ms of a scenario instant (as if the scenario ran at speed 1 from its calendar start). */
  at(scenarioMs: number): number;
  /** Wall-clock epoch ms at which a calendar instant happens at the clock's speed. */
  toWallEpochMs(calendarEpochMs: number): number;
}

/** Read on every call: `reset` moves the clock's origin, and `startsAt` changes with the scenario. */
export function scenarioCalendar(clock: Pick<Clock, 'toEpochMs'>, startsAtEpochMs: () => number | undefined): Calendar {
  const start = () => startsAtEpochMs() ?? clock.toEpochMs(0);
  return {
    at: (scenarioMs) => start() + scenarioMs,
    toWallEpochMs: (calendarEpochMs) => clock.toEpochMs(calendarEpochMs - start()),
  };
}
