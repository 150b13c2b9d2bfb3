/**
 * The soak: one rehearsal agent (holdline's chain, the fake standing in for OpenRouter and the local server)
 * through a long random fault schedule (schedule.ts) at a high speed, every invariant checked on every turn
 * as it ends (test/kit/invariants.ts), memory sampled before and after.
 *
 * Cooldowns for a 404 and for account errors are cut from 5 and 10 minutes to 1 minute of scenario time: a
 * turn after the faults cleared waits for some backend's cooldown to end, and shorter ones let the same wall
 * time hold many more segments. Nothing else differs from the defaults.
 */
import { parseScenario } from '../../contract/scenario/load.js';
import { someBackendFreeAt, untilScenario } from '../../test/kit/clock-wait.js';
import { LOCAL_MODEL, scenarioText, standInSpeech } from '../../test/kit/fault-places.js';
import { closeProblems, secretProblems, turnProblems, watchUnhandledRejections } from '../../test/kit/invariants.js';
import { sampleMemory, type MemorySample } from '../lib/memory.js';
import { countRequests, type RequestCounts } from '../lib/requests.js';
import { startRig } from '../../test/kit/rig.js';
import { hearTurns, playTurn } from '../../test/kit/turns.js';
import { describeSegment, rulesAt, segment } from './schedule.js';

export interface SoakOptions {
  turns: number;
  seed: number;
  speed: number;
  /** Called after every turn (for a progress line). */
  onTurn?: (done: number, total: number) => void;
}

export interface SoakFailure {
  /** 1-based turn number: `--turns <turn>` with the same seed replays up to it. */
  turn: number;
  segment: string;
  phase: 'faults on' | 'faults cleared';
  problems: string[];
}

export interface SoakReport {
  seed: number;
  speed: number;
  turns: number;
  segments: number;
  answers: number;
  apologies: number;
  /** Turns in which the hold was said. */
  holds: number;
  requests: RequestCounts;
  failures: SoakFailure[];
  /**
   * Before: after the warm-up turns. After: at the end, the call still open (what a long call holds). Closed:
   * sampled by the caller once this run's session, agent and fake are closed and unreachable; back near
   * `before` means nothing outlived them.
   */
  memory: { before: MemorySample; after: MemorySample; closed?: MemorySample };
  wallMs: number;
}

const KEY = 'sk-or-v1-soak-secret-7d1e4a9b3c05';
/**
 * How long a turn may take before it counts as stuck: the longest legitimate one is a last pass at the end of
 * the 60 s window that meets a deadline at every backend (~100 s of scenario time). At least 20 s of wall time,
 * so a loaded machine is not mistaken for a stuck turn.
 */
const TURN_CAP_SCENARIO_MS = 180_000;
const TURN_CAP_MIN_WALL_MS = 20_000;
/** Cooldowns here last at most a minute (a daily quota's lasts till midnight, but never at the local server). */
const LONGEST_CLEAR_WAIT_MS = 5 * 60_000;
/** Turns played before the first memory sample, so the sample is of a warmed-up process. */
const WARMUP_TURNS = 10;

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const rules = standInSpeech();
  const parse = (lines: string[]) => parseScenario(scenarioText('soak', lines, options.seed), 'soak.yaml');
  const rejections = watchUnhandledRejections();
  const rig = await startRig({
    scenario: parse([]),
    speed: options.speed,
    apiKey: KEY,
    local: { baseURL: 'fake', model: LOCAL_MODEL },
    env: { NOT_FOUND_COOLDOWN_MS: '60000', ACCOUNT_COOLDOWN_MS: '60000' },
    logLevel: 'debug',
  });
  const started = Date.now();
  const report: SoakReport = {
    seed: options.seed,
    speed: options.speed,
    turns: 0,
    segments: 0,
    answers: 0,
    apologies: 0,
    holds: 0,
    requests: { chat: 0, failed: 0, byModel: {} },
    failures: [],
    memory: { before: sampleMemory(), after: sampleMemory() },
    wallMs: 0,
  };
  try {
    const play = async (text: string, phase: SoakFailure['phase'], where: string) => {
      const rejectionsBefore = rejections.seen.length;
      const played = await playTurn({ agentUrl: rig.agent.url, events: rig.events, index: report.turns, text, capWallMs: Math.max(TURN_CAP_SCENARIO_MS / options.speed, TURN_CAP_MIN_WALL_MS) });
      const [heard] = hearTurns([played], rig.events.all, rules);
      report.turns += 1;
      if (heard!.outcome === 'answered') report.answers += 1;
      if (heard!.outcome === 'apology') report.apologies += 1;
      if (heard!.held) report.holds += 1;
      const problems = [
        ...turnProblems(heard!, rules, phase === 'faults cleared'),
        ...closeProblems(rig.events.all),
        ...secretProblems(KEY, { 'the agent log': rig.drainOutput(), 'the events': JSON.stringify(rig.events.all) }),
        ...rejections.seen.slice(rejectionsBefore).map((r) => `unhandled rejection: ${r}`),
      ];
      if (problems.length > 0) report.failures.push({ turn: report.turns, segment: where, phase, problems });
      rig.events.clear();
      if (report.turns === WARMUP_TURNS) report.memory.before = sampleMemory();
      options.onTurn?.(report.turns, options.turns);
    };

    for (let index = 0; report.turns < options.turns; index++) {
      const s = segment(options.seed, index);
      const where = describeSegment(s);
      const startMs = rig.agent.clock.now();
      rig.fake.setScenario(parse(rulesAt(s, startMs)));
      report.segments += 1;
      for (const pauseMs of s.pausesMs) {
        if (report.turns >= options.turns) break;
        await untilScenario(rig.agent, rig.agent.clock.now() + pauseMs);
        await play('What is the capital of France?', 'faults on', where);
      }
      if (report.turns >= options.turns) break;
      const clearAt = Math.max(startMs + s.lengthMs, await someBackendFreeAt(rig.agent)) + 1;
      if (clearAt - rig.agent.clock.now() > LONGEST_CLEAR_WAIT_MS) {
        // Every backend out for longer than any cooldown we configured: say so, rather than wait for hours.
        report.failures.push({ turn: report.turns, segment: where, phase: 'faults cleared', problems: [`no backend free until scenario ms ${Math.round(clearAt)}`] });
        break;
      }
      await untilScenario(rig.agent, clearAt);
      await play('Are you still there?', 'faults cleared', where);
    }
    // Sampled with the agent still running: what a long call leaves behind in it, not what closing frees.
    report.memory.after = sampleMemory();
    report.requests = countRequests(rig.fake.journal());
  } finally {
    report.wallMs = Date.now() - started;
    await rig.close();
    rejections.stop();
  }
  return report;
}
