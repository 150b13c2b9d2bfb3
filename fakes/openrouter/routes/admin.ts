/**
 * The control API under `/__fake/`, for the runner and tests (who may call it: contract/local-api.ts):
 *   PUT  /__fake/scenario  YAML or JSON body (declared: application/yaml, text/yaml, application/json...), checked by
 *                          the contract loader; 400 with every problem, or swaps it live
 *   POST /__fake/reset     clock, counters, journal; `{"at": <epoch ms>}` (application/json) puts scenario time 0 at
 *                          that instant
 *   GET  /__fake/journal   the contract's `Journal`
 *   GET  /__fake/health    liveness, scenario name, speed, origin, scenario time
 *   GET  /__fake/lateness  `?since=<epoch ms>`: this process's stalls since then (contract/lateness.ts), so the
 *                          runner can tell a late answer on a busy machine from a late agent
 */
import express, { Router } from 'express';
import { originProblem } from '../../../contract/clock.js';
import { latenessReport, processLateness, sinceParam } from '../../../contract/lateness.js';
import { SCENARIO_MAX_BYTES } from '../../../contract/scenario/bounds.js';
import { parseScenario, problemsBody, ScenarioError } from '../../../contract/scenario/load.js';
import type { FakeState } from '../state.js';
import { adminGuard, requireMediaType, SCENARIO_MEDIA_TYPES, type AdminGuardOptions } from '../../../contract/local-api.js';
import { sendJson } from './respond.js';
import { parseJsonOrUndefined } from '../json.js';

/** `{"at": <epoch ms>}` is 30 bytes; 1 KiB is room for whitespace and nothing else. */
export const RESET_MAX_BYTES = 1024;

export function adminRoutes(state: FakeState, guard: AdminGuardOptions): Router {
  const router = Router();
  router.use(adminGuard(guard, problemText));

  router.put('/scenario', requireMediaType(SCENARIO_MEDIA_TYPES, { emptyAllowed: false }, problemText), express.text({ type: () => true, limit: SCENARIO_MAX_BYTES }), (req, res) => {
    try {
      const scenario = parseScenario(typeof req.body === 'string' ? req.body : '', 'scenario');
      state.setScenario(scenario);
      sendJson(res, 200, { ok: true, name: scenario.name });
    } catch (err) {
      if (!(err instanceof ScenarioError)) throw err;
      sendJson(res, 400, problemsBody(err));
    }
  });

  router.post('/reset', requireMediaType(['application/json'], { emptyAllowed: true }, problemText), express.text({ type: () => true, limit: RESET_MAX_BYTES }), (req, res) => {
    const body = typeof req.body === 'string' && req.body.trim() !== '' ? parseJsonOrUndefined(req.body) : {};
    const at = (body as { at?: unknown } | undefined)?.at;
    if (body === undefined || body === null || typeof body !== 'object') {
      return sendJson(res, 400, { ok: false, problems: [{ text: 'expected an empty body or {"at": <epoch ms>}' }] });
    }
    const problem = at === undefined ? undefined : originProblem(at);
    if (problem) return sendJson(res, 400, { ok: false, problems: [{ text: problem }] });
    state.reset(typeof at === 'number' ? at : Date.now());
    sendJson(res, 200, { ok: true, originEpochMs: state.clock.origin });
  });

  router.get('/journal', (_req, res) => sendJson(res, 200, state.journalSnapshot()));

  router.get('/lateness', (req, res) => {
    const since = sinceParam(req.query.since);
    if (since === undefined) return sendJson(res, 400, { ok: false, problems: [{ text: 'expected ?since=<epoch ms>' }] });
    sendJson(res, 200, latenessReport(processLateness(), since));
  });

  router.get('/health', (_req, res) =>
    sendJson(res, 200, {
      ok: true,
      scenario: state.scenario.name,
      speed: state.clock.speed,
      originEpochMs: state.clock.origin,
      now: Math.floor(state.clock.now()),
    }),
  );
  return router;
}

/** The control API's error body: `{ok: false, problems: [{text}]}`, as for a scenario's problems. */
function problemText(text: string) {
  return { ok: false, problems: [{ text }] };
}
