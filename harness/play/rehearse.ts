/**
 * Plays a scenario against a running stack and records what happened: resets the fake's and the agent's
 * clocks to one wall instant, plays the user turns at their scenario times (wall = at / speed), collects
 * the agent's events, and ends when the rehearsal is over (see pending.ts) plus a short settle, or at the
 * hard cap. Then it reads the fake's journal. It waits on events, never on luck: the only sleeps are the
 * scenario's own times.
 */
import type { AgentEvent } from '../../contract/events.js';
import type { Journal } from '../../contract/journal.js';
import type { Scenario } from '../../contract/scenario/schema.js';
import { describeFailure, type RunningStack, type ServiceFailure } from '../stack/stack.js';
import { pending, type PlayedTurn } from './pending.js';
import { readEvents } from '../../contract/event-stream.js';
import { liveLine } from '../report/live.js';
import { clockTimeline, notifier, untilOr, wallTimeline, within, type Timeline } from './waiting.js';
import { parseLatenessReport, processLateness, type LatenessMeter, type LatenessReport } from '../../contract/lateness.js';

export interface Recording {
  events: AgentEvent[];
  journal: Journal;
  turns: PlayedTurn[];
  /** Wall instant of scenario time 0 (epoch ms). */
  originEpochMs: number;
  /** Why the rehearsal could not be judged as it stands (the cap, a closed session), in plain words. */
  problems: string[];
  /** How long each process (runner, fake, agent; one report per process) could not run during the rehearsal. */
  lateness: LatenessReport[];
  /** `wall`: scenario time was wall time times the speed; `virtual`: the stack's own clock, skipping idle time. */
  clock: 'wall' | 'virtual';
}

export interface RehearseOptions {
  speed: number;
  signal?: AbortSignal;
  progress?: (line: string) => void;
}

/** Thrown when a service of the stack dies mid-rehearsal. */
export class ServiceCrashed extends Error {
  constructor(readonly failure: ServiceFailure) {
    super(describeFailure(failure));
    this.name = 'ServiceCrashed';
  }
}

/** Wall ms between the clocks' reset and scenario time 0: both resets land before the scenario starts. */
const RESET_LEAD_MS = 250;
/** After the last turn: how much scenario time may pass before the rehearsal is called stuck. */
export const CAP_AFTER_LAST_TURN_MS = 120_000;
/** Wall ms to wait for a service's exit to be reported once the agent stopped answering. */
const CRASH_REPORT_MS = 2_000;
/** Wall ms to wait for a service's stall report before judging without it. */
const LATENESS_FETCH_MS = 5_000;
/** Scenario ms to keep listening once everything is over, to catch anything said late. */
const SETTLE_MS = 1_000;
/** ...but never less than this in wall ms, whatever the speed. */
const MIN_SETTLE_WALL_MS = 150;

export async function rehearse(stack: RunningStack, scenario: Scenario, options: RehearseOptions): Promise<Recording> {
  const { speed, signal, progress = () => {} } = options;
  // On virtual time there is nothing for stalls to explain (below), so nothing is measured.
  const runnerLateness = stack.clock ? undefined : processLateness();
  // On a stack's own clock (virtual time) nothing waits for the reset: time stands still until it is done.
  const originEpochMs = Date.now() + (stack.clock ? 0 : RESET_LEAD_MS);
  const time: Timeline = stack.clock ? clockTimeline(stack.clock) : wallTimeline(originEpochMs, speed);
  await post(`${stack.fakeUrl}/__fake/reset`, { at: originEpochMs });
  await post(`${stack.agentUrl}/reset`, { at: originEpochMs });

  const events: AgentEvent[] = [];
  let changed = notifier();
  const stream = readEvents<AgentEvent>(`${stack.agentUrl}/events`, (event) => {
    events.push(event);
    const line = liveLine(event);
    if (line !== undefined) progress(line);
    changed.notify();
  });
  const turns = [...scenario.user].sort((a, b) => a.atMs - b.atMs);
  const played: PlayedTurn[] = [];
  const problems: string[] = [];
  const capMs = (turns.at(-1)?.atMs ?? 0) + CAP_AFTER_LAST_TURN_MS;

  const stopped = new AbortController();
  const onAbort = () => stopped.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  let crash: ServiceFailure | undefined;
  void stack.crashed.then((failure) => {
    crash = failure;
    if (!stopped.signal.aborted) stopped.abort(new ServiceCrashed(failure));
  });

  try {
    let playError: unknown;
    stream.failed.catch((error: unknown) => {
      playError = error;
      changed.notify();
    });
    playTurns(stack.agentUrl, turns, time, played, () => changed.notify(), progress, stopped.signal).catch((error: unknown) => {
      playError = error;
      changed.notify();
    });
    for (;;) {
      stopped.signal.throwIfAborted();
      if (playError !== undefined) throw playError;
      const closed = events.find((e) => e.type === 'close');
      if (closed?.type === 'close') {
        problems.push(`the agent's session closed (${closed.reason}); it must never close because of the LLM`);
        break;
      }
      const waitingFor = pending(events, played, turns.length);
      if (waitingFor === undefined) {
        // Over: listen a little longer for anything said late, then stop unless that changed the picture.
        const count = events.length;
        await time.until(time.now() + (stack.clock ? SETTLE_MS : Math.max(MIN_SETTLE_WALL_MS * speed, SETTLE_MS)), stopped.signal);
        if (events.length === count || pending(events, played, turns.length) === undefined) break;
        continue;
      }
      if (time.now() >= capMs) {
        problems.push(`the rehearsal was not over ${CAP_AFTER_LAST_TURN_MS / 1000} s (scenario time) after the last turn: ${waitingFor}`);
        break;
      }
      changed = notifier();
      await untilOr(changed.next, time, capMs, stopped.signal);
    }
    const journal = (await (await fetch(`${stack.fakeUrl}/__fake/journal`)).json()) as Journal;
    // On virtual time a busy machine delays the work, never the clock relative to it: there is nothing to explain.
    const lateness = runnerLateness ? await stallsOf(stack, runnerLateness, originEpochMs - RESET_LEAD_MS) : [];
    return { events: [...events], journal, turns: played, originEpochMs, problems, lateness, clock: stack.clock ? 'virtual' : 'wall' };
  } catch (error) {
    // Ctrl-C first: services dying because of the interrupt are not crashes.
    if (signal?.aborted) throw signal.reason;
    // A dead agent usually shows first as a broken event stream; its exit is reported a moment later.
    const failure = crash ?? (await within(stack.crashed, CRASH_REPORT_MS));
    if (failure) throw new ServiceCrashed(failure);
    throw new Error(`lost contact with the rehearsal: ${(error as Error).message}`, { cause: error });
  } finally {
    signal?.removeEventListener('abort', onAbort);
    stopped.abort(new Error('the rehearsal is over')); // stops turns not yet played (a closed session ends early)
    stream.close();
  }
}

/** Posts each user turn when it is due, in order; the times are absolute, so a slow answer never delays the next. */
async function playTurns(
  agentUrl: string,
  turns: Scenario['user'],
  time: Timeline,
  played: PlayedTurn[],
  onPlayed: () => void,
  progress: (line: string) => void,
  signal: AbortSignal,
): Promise<void> {
  for (const turn of turns) {
    await time.until(turn.atMs, signal);
    const answer = (await post(`${agentUrl}/turns`, { text: turn.say })) as { at?: number };
    played.push({ atMs: turn.atMs, say: turn.say, acceptedAt: typeof answer.at === 'number' ? answer.at : turn.atMs });
    progress(`caller at ${(turn.atMs / 1000).toFixed(1)}s: "${turn.say}"`);
    onPlayed();
  }
}

/** The runner's, the fake's and the agent's stalls since `since`, one report per process (they may share one). */
async function stallsOf(stack: RunningStack, runner: LatenessMeter, since: number): Promise<LatenessReport[]> {
  const reports = [
    { id: runner.id, stalls: runner.since(since) },
    ...(await Promise.all([latenessOf(`${stack.fakeUrl}/__fake/lateness?since=${since}`), latenessOf(`${stack.agentUrl}/lateness?since=${since}`)])),
  ];
  return reports.filter((r, i): r is LatenessReport => r !== undefined && reports.findIndex((o) => o?.id === r.id) === i);
}

/** A service's stalls; undefined when it does not measure them (a user's own fake or agent, an older image). */
async function latenessOf(url: string): Promise<LatenessReport | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(LATENESS_FETCH_MS) });
    return response.ok ? parseLatenessReport(await response.json()) : undefined;
  } catch {
    return undefined;
  }
}

async function post(url: string, body: unknown): Promise<unknown> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await response.text();
  if (!response.ok) throw new Error(`POST ${url} answered ${response.status}: ${text}`);
  return text ? (JSON.parse(text) as unknown) : {};
}
