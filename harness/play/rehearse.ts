/**
 * Plays a scenario against a running stack and records what happened: resets the fake's and the agents' clocks
 * to one wall instant, plays the user turns at their scenario times (wall = at / speed) on every call (call k,
 * from 0, k * stagger later), collects each agent's events, and ends when every call is over (see pending.ts) plus
 * a short settle, or at the hard cap. Then it reads the fake's journal (the fleet's requests, one key). A scenario
 * that takes Redis down (`agent.redis.down`) has it killed and restarted here, at its scenario times. It waits on
 * events, never on luck: the only sleeps are the scenario's own times.
 */
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { whileHeld } from '../../contract/time/held.js';
import type { AgentEvent } from '../../contract/events.js';
import type { Journal } from '../../contract/journal.js';
import type { Scenario } from '../../contract/scenario/schema.js';
import { describeFailure, type RunningStack, type ServiceFailure } from '../stack/stack.js';
import { pending, type PlayedTurn } from './pending.js';
import { readEvents } from '../../contract/event-stream.js';
import { liveLine } from '../report/live.js';
import { clockTimeline, notifier, untilOr, wallTimeline, within, type Timeline } from './waiting.js';
import { parseLatenessReport, processLateness, type LatenessMeter, type LatenessReport } from '../../contract/lateness.js';

/** One call of a fleet as played: its agent's events and the turns it was given, on the rehearsal's one timeline. */
export interface CallRecording {
  /** 1-based, as reports name it. */
  call: number;
  /** Scenario ms its turns were shifted by (k * stagger): its expectations are shifted alike. */
  offsetMs: number;
  events: AgentEvent[];
  turns: PlayedTurn[];
}

export interface Recording {
  /** Call 1's agent events (the only call unless `calls`). */
  events: AgentEvent[];
  journal: Journal;
  /** Call 1's turns. */
  turns: PlayedTurn[];
  /** A fleet (`calls` > 1): every call, call 1 included, in call order. Absent: one call (`events`, `turns`). */
  calls?: CallRecording[];
  /** When the rehearsal's Redis was down (`agent.redis.down`): scenario ms it was killed and back. */
  redisOutages?: { at: number; until: number }[];
  /** Wall instant of scenario time 0 (epoch ms). */
  originEpochMs: number;
  /** Why the rehearsal could not be judged as it stands (the cap, a closed session), in plain words. */
  problems: string[];
  /** How long each process (runner, fake, agent; one report per process) could not run during the rehearsal. */
  lateness: LatenessReport[];
  /** `wall`: scenario time was wall time times the speed; `virtual`: the stack's own clock, skipping idle time. */
  clock: 'wall' | 'virtual';
}

/** Every call of a recording, a single call included (as call 1, unshifted). */
export function callsOf(recording: Recording): CallRecording[] {
  return recording.calls ?? [{ call: 1, offsetMs: 0, events: recording.events, turns: recording.turns }];
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
/** Wall ms a participant has to answer the reset: it answers in milliseconds; one alive but not answering must not hold the rehearsal for fetch's five minutes. */
const RESET_TIMEOUT_MS = 30_000;
/** ...but never less than this in wall ms, whatever the speed. */
const MIN_SETTLE_WALL_MS = 150;

export async function rehearse(stack: RunningStack, scenario: Scenario, options: RehearseOptions): Promise<Recording> {
  const { speed, signal, progress = () => {} } = options;
  // On virtual time there is nothing for stalls to explain (below), so nothing is measured.
  const runnerLateness = stack.clock ? undefined : processLateness();
  // On a stack's own clock (virtual time) nothing waits for the reset: time is held until it is done (below).
  const originEpochMs = Date.now() + (stack.clock ? 0 : RESET_LEAD_MS);
  const time: Timeline = stack.clock ? clockTimeline(stack.clock) : wallTimeline(originEpochMs, speed);
  const urls = stack.callUrls ?? [stack.agentUrl];
  const fleet = urls.length > 1;
  const down = scenario.agent.redis === false ? undefined : scenario.agent.redis.down;
  if (down && !stack.redis) throw new Error('the scenario takes Redis down (agent.redis.down), and this stack started no Redis the runner can kill');
  let changed = notifier();
  const scenarioTurns = [...scenario.user].sort((a, b) => a.atMs - b.atMs);
  const calls: (CallRecording & { url: string })[] = urls.map((url, i) => ({ call: i + 1, url, offsetMs: i * scenario.staggerMs, events: [], turns: [] }));
  let streams: ReturnType<typeof readEvents<AgentEvent>>[] = [];
  const problems: string[] = [];
  const redisOutages: { at: number; until: number }[] = [];
  const lastOffset = calls.at(-1)?.offsetMs ?? 0;
  const capMs = (scenarioTurns.at(-1)?.atMs ?? 0) + lastOffset + CAP_AFTER_LAST_TURN_MS;

  const stopped = new AbortController();
  // Every call's turns (up to 50), the lane readers and a Redis outage wait on it: a fleet is not a leak.
  setMaxListeners(128, stopped.signal);
  const onAbort = () => stopped.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  let crash: ServiceFailure | undefined;
  void stack.crashed.then((failure) => {
    crash = failure;
    if (!stopped.signal.aborted) stopped.abort(new ServiceCrashed(failure));
  });
  let outage: Promise<void> = Promise.resolve();
  const who = (call: CallRecording) => (fleet ? `call ${call.call}: ` : '');
  /** What the rehearsal still waits for, naming the call in a fleet; undefined once every call is over. */
  const waitingFor = () => {
    for (const call of calls) {
      const waiting = pending(call.events, call.turns, scenarioTurns.length);
      if (waiting !== undefined) return `${who(call)}${waiting}`;
    }
    return undefined;
  };

  try {
    // The runner's own clock too, where it is not the services' (virtual time across processes): one instant is 0
    // everywhere, whatever time passed since the stack started.
    // Time is held until every participant has been reset: a participant with a timer already due (a Redis client's
    // reconnection scheduled at its start) would otherwise let time move between two resets, and the calls would
    // count from different zeros (seen on containers: one call's events a second early).
    // Inside the try, with the crash already watched: an agent that died after it said it was ready (one of 50 that
    // started first) is named with its exit and last output, not reported as a refused reset.
    const resetSignal = AbortSignal.any([stopped.signal, AbortSignal.timeout(RESET_TIMEOUT_MS)]);
    await whileHeld(async () => {
      stack.clock?.resetTo(originEpochMs);
      await post(`${stack.fakeUrl}/__fake/reset`, { at: originEpochMs }, resetSignal);
      await Promise.all(urls.map((url) => post(`${url}/reset`, { at: originEpochMs }, resetSignal)));
    });
    streams = calls.map((call) =>
      readEvents<AgentEvent>(`${call.url}/events`, (event) => {
        call.events.push(event);
        const line = liveLine(event);
        if (line !== undefined) progress(fleet ? `call ${call.call}: ${line}` : line);
        changed.notify();
      }),
    );
    let playError: unknown;
    const failed = (error: unknown) => {
      playError = error;
      changed.notify();
    };
    for (const stream of streams) stream.failed.catch(failed);
    for (const call of calls) {
      const turns = scenarioTurns.map((turn) => ({ ...turn, atMs: turn.atMs + call.offsetMs }));
      const said = (line: string) => progress(`${who(call)}${line}`);
      playTurns(call.url, turns, time, call.turns, () => changed.notify(), said, stopped.signal).catch(failed);
    }
    if (down && stack.redis) outage = takeRedisDown(stack.redis, down, time, redisOutages, progress, stopped.signal, stack.clock ? urls : []).catch((error: unknown) => {
      if (!stopped.signal.aborted) failed(error);
    });
    for (;;) {
      stopped.signal.throwIfAborted();
      if (playError !== undefined) throw playError;
      const closedIn = calls.find((call) => call.events.some((e) => e.type === 'close'));
      const closed = closedIn?.events.find((e) => e.type === 'close');
      if (closedIn && closed?.type === 'close') {
        problems.push(`${who(closedIn)}the agent's session closed (${closed.reason}); it must never close because of the LLM`);
        break;
      }
      const waiting = waitingFor();
      if (waiting === undefined) {
        // Over: listen a little longer for anything said late, then stop unless that changed the picture.
        const count = calls.reduce((sum, call) => sum + call.events.length, 0);
        await time.until(time.now() + (stack.clock ? SETTLE_MS : Math.max(MIN_SETTLE_WALL_MS * speed, SETTLE_MS)), stopped.signal);
        if (calls.reduce((sum, call) => sum + call.events.length, 0) === count || waitingFor() === undefined) break;
        continue;
      }
      if (time.now() >= capMs) {
        problems.push(`the rehearsal was not over ${CAP_AFTER_LAST_TURN_MS / 1000} s (scenario time) after the last turn: ${waiting}`);
        break;
      }
      changed = notifier();
      await untilOr(changed.next, time, capMs, stopped.signal);
    }
    const journal = (await (await fetch(`${stack.fakeUrl}/__fake/journal`)).json()) as Journal;
    // On virtual time a busy machine delays the work, never the clock relative to it: there is nothing to explain.
    const lateness = runnerLateness ? await stallsOf(stack.fakeUrl, urls, runnerLateness, originEpochMs - RESET_LEAD_MS) : [];
    const first = calls[0] as CallRecording;
    return {
      events: [...first.events],
      journal,
      turns: first.turns,
      ...(fleet && { calls: calls.map(({ call, offsetMs, events, turns }) => ({ call, offsetMs, events: [...events], turns })) }),
      ...(down && { redisOutages }),
      originEpochMs,
      problems,
      lateness,
      clock: stack.clock ? 'virtual' : 'wall',
    };
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
    for (const stream of streams) stream.close();
    // A restart under way finishes before the stack stops, so its new redis-server is the one stopped.
    await outage;
  }
}

/**
 * `agent.redis.down`: kills the rehearsal's Redis at `at` (SIGKILL, a crash) and starts it again, empty, on the
 * same port `for` later, recording both instants. The calls must ride it out on their own state.
 */
async function takeRedisDown(
  redis: NonNullable<RunningStack['redis']>,
  down: { atMs: number; forMs: number },
  time: Timeline,
  outages: { at: number; until: number }[],
  progress: (line: string) => void,
  signal: AbortSignal,
  noticedBy: string[],
): Promise<void> {
  await time.until(down.atMs, signal);
  // On virtual time the kill and the restart take no scenario time: time is held until each is done (a process's
  // exit, a PING answered) and, after the kill, until every call (`noticedBy`: their agents' URLs) has seen its
  // connections close: its last report of idle predates the kill, and time must not move before its clients
  // schedule their reconnection from this instant. So the calls meet Redis gone, and back, at the same instants on
  // every run.
  await whileHeld(async () => {
    await redis.kill();
    await Promise.all(noticedBy.map((url) => redisNoticed(url, signal)));
  });
  const at = Math.round(time.now());
  progress(`${(at / 1000).toFixed(1)}s: redis-server killed (agent.redis.down), back in ${down.forMs / 1000} s`);
  const outage = { at, until: at };
  outages.push(outage);
  await time.until(down.atMs + down.forMs, signal);
  await whileHeld(() => redis.restart());
  outage.until = Math.round(time.now());
  progress(`${(outage.until / 1000).toFixed(1)}s: redis-server started again on the same port, empty`);
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

/** The runner's, the fake's and every agent's stalls since `since`, one report per process (they may share one). */
async function stallsOf(fakeUrl: string, agentUrls: string[], runner: LatenessMeter, since: number): Promise<LatenessReport[]> {
  const urls = [`${fakeUrl}/__fake/lateness?since=${since}`, ...agentUrls.map((url) => `${url}/lateness?since=${since}`)];
  const reports = [{ id: runner.id, stalls: runner.since(since) }, ...(await Promise.all(urls.map(latenessOf)))];
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

/** Wall ms an agent may take to see its Redis connections close after the kill, before the rehearsal goes on anyway. */
const NOTICE_WITHIN_MS = 10_000;
const NOTICE_POLL_MS = 10;

/** Resolves once the agent at `url` says its Redis connections are closed (GET /healthz), or after NOTICE_WITHIN_MS. */
async function redisNoticed(url: string, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + NOTICE_WITHIN_MS;
  while (Date.now() < deadline) {
    signal.throwIfAborted();
    const health = (await (await fetch(`${url}/healthz`, { signal })).json()) as { redis?: string };
    if (health.redis !== 'connected') return;
    await sleep(NOTICE_POLL_MS, undefined, { signal });
  }
}

async function post(url: string, body: unknown, signal?: AbortSignal): Promise<unknown> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal });
  const text = await response.text();
  if (!response.ok) throw new Error(`POST ${url} answered ${response.status}: ${text}`);
  return text ? (JSON.parse(text) as unknown) : {};
}
