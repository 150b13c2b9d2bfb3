/**
 * The fault matrix: every fault the fake can play (test/kit/fault-samples.ts, derived from the schema's
 * FAULT_KINDS) at one place, one case each. A case is a short call: the caller speaks while the fault is on,
 * then again once it has cleared (and some backend's cooldown is over), and every invariant is checked on both
 * turns (test/kit/invariants.ts).
 *
 * The faults last 40 s of scenario time: longer than the slowest whole pass (a stall costs 8 + 8 s at OpenRouter
 * and 20 s at the local server), so "every backend" really means every backend failed, and shorter than the
 * 60 s retry window, so transient faults end in the hold and then an answer, while bad requests and account
 * errors end in the apology. At speed 25 a case takes 2 to 4 s of wall time (one 404 case waits out a 300 s
 * cooldown: 12 s), and cases run concurrently.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentEvent } from '../../contract/events.js';
import { parseScenario } from '../../contract/scenario/load.js';
import { someBackendFreeAt, untilScenario } from '../kit/clock-wait.js';
import { LOCAL_MODEL, ruleLines, scenarioText, standInSpeech, type FaultSample, type Place } from '../kit/fault-places.js';
import { faultSamples } from '../kit/fault-samples.js';
import { closeProblems, secretProblems, turnProblems, watchUnhandledRejections } from '../kit/invariants.js';
import { startRig } from '../kit/rig.js';
import { hearTurns, playTurn } from '../kit/turns.js';

const SPEED = 25;
const KEY = 'sk-or-v1-matrix-secret-5f2b9c0d7e1a';
const FAULTS_UNTIL_MS = 40_000;
/** Wall ms a turn may take before it counts as stuck: far above any case (the slowest turn is ~70 s of scenario time, 3 s wall). */
const TURN_CAP_WALL_MS = 20_000;
const RULES = standInSpeech();

export function matrixSuite(place: Place): void {
  describe(`fault matrix: faults at ${place}`, () => {
    const rejections = watchUnhandledRejections();
    let before = 0;
    beforeAll(() => {
      before = rejections.seen.length;
    });
    afterAll(() => rejections.stop());

    it.concurrent.each(faultSamples().map((sample) => [sample.name, sample] as const))('%s', async (_name, sample) => {
      const problems = await playCase(place, sample);
      expect(problems).toEqual([]);
    });

    it('no unhandled rejection', () => {
      expect(rejections.seen.slice(before)).toEqual([]);
    });
  });
}

async function playCase(place: Place, sample: FaultSample): Promise<string[]> {
  const faultRules = ruleLines(sample, place, { untilMs: FAULTS_UNTIL_MS });
  const scenario = parseScenario(scenarioText(`matrix-${place}`, faultRules), `matrix-${place}.yaml`);
  const rig = await startRig({
    scenario,
    speed: SPEED,
    apiKey: KEY,
    local: { baseURL: 'fake', model: LOCAL_MODEL },
  });
  try {
    const { agent, events } = rig;
    const during = await playTurn({ agentUrl: agent.url, events, index: 0, text: 'What is the capital of France?', capWallMs: TURN_CAP_WALL_MS });
    await untilScenario(agent, Math.max(FAULTS_UNTIL_MS, await someBackendFreeAt(agent)) + 1);
    const after = await playTurn({ agentUrl: agent.url, events, index: 1, text: 'Are you still there?', capWallMs: TURN_CAP_WALL_MS });
    const [first, second] = hearTurns([during, after], events.all, RULES);
    const problems = [
      ...turnProblems(first!, RULES, false).map((p) => `turn 1 (faults on): ${p}`),
      ...turnProblems(second!, RULES, true).map((p) => `turn 2 (faults cleared): ${p}`),
      ...closeProblems(events.all),
      ...secretProblems(KEY, { 'the agent log': rig.output(), 'the events': JSON.stringify(events.all) }),
      // A case only proves something if the fault really struck: some request was decided by a fault rule (the
      // last rule is the local stand-in's normal answer).
      ...(rig.fake.journal().entries.some((e) => e.rule !== null && e.rule < faultRules.length) ? [] : ['no request met the fault']),
    ];
    // MATRIX_TIMELINE=1 prints every case's timeline, to see what each fault does to a call.
    if (process.env.MATRIX_TIMELINE) console.log(`${place} / ${sample.name}: ${timeline(events.all)}`);
    if (problems.length > 0) problems.push(`timeline: ${timeline(events.all)}`);
    return problems;
  } finally {
    await rig.close();
  }
}

/** The case's events in one line, for a failure message. */
function timeline(all: readonly AgentEvent[]): string {
  return all
    .map((e) => {
      if (e.type === 'attempt') return `${e.at} attempt ${e.model} ${e.outcome}`;
      if (e.type === 'utterance') return `${e.start} said(${e.source}) ${JSON.stringify(e.text)}`;
      if (e.type === 'policy') return `${e.at} ${e.step}`;
      if (e.type === 'turn_end') return `${e.at} ${e.turnId} ${e.outcome}`;
      if (e.type === 'state') return `${e.at} ${e.to}`;
      return `${e.at} ${e.type}`;
    })
    .join(' | ');
}
