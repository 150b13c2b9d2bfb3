import { describe, expect, it } from 'vitest';
import type { FailureClass } from '../../contract/events.js';
import type { PolicyConfig } from '../config.js';
import type { Backend } from './backends.js';
import { carriedBackends } from './backends.js';
import { clearAfterSuccess, cooldownsAfter, cooldownsAfterAnsweredAround, withCarried, mergeCooldowns, type Cooldown, type FailureFacts } from './cooldown.js';
import { decide, hedgeTarget, holdDueAt, newEpisode, type Decision, type Episode } from './policy.js';

const basePolicy: PolicyConfig = {
  retryWindowMs: 60_000,
  backoffInitialMs: 1_000,
  backoffMaxMs: 8_000,
  rateLimitCooldownMs: 10_000,
  notFoundCooldownMs: 300_000,
  unavailableCooldownMs: 5_000,
  timeoutCooldownMs: 30_000,
  accountCooldownMs: 600_000,
  cooldownMaxMs: 60_000,
  holdAfterMs: 2_000,
  hedgeMinMs: 700,
  hedgeMaxMs: 1_200,
  hedgeBudgetPercent: 10,
};
const policy = basePolicy;
const deadlines = { headersMs: 5_000, firstTokenMs: 8_000, idleMs: 5_000 };
const or = (model: string): Backend => ({ id: `openrouter:${model}`, kind: 'openrouter', model, baseURL: 'http://x', deadlines });
const A = or('a/one');
const B = or('b/two');
const L: Backend = { id: 'local', kind: 'local', model: 'local', baseURL: 'http://l', deadlines };
const backends = [A, B, L];

/**
 * Plays an episode against a script of outcomes per backend, on virtual time: each attempt takes `costMs`,
 * waits jump the clock. Returns the decisions taken, with their times, until the episode ends.
 */
function play(
  outcome: (backend: Backend, now: number) => FailureFacts | 'ok' | { fact: FailureFacts; textSent: true },
  options: { costMs?: number; cooldowns?: Map<string, Cooldown>; start?: number; list?: Backend[]; policy?: PolicyConfig } = {},
) {
  const policy = options.policy ?? basePolicy;
  const list = options.list ?? backends;
  const cooldowns = options.cooldowns ?? new Map<string, Cooldown>();
  let now = options.start ?? 0;
  const episode: Episode = newEpisode(now);
  const log: { at: number; d: Decision }[] = [];
  for (let step = 0; step < 500; step++) {
    const d = decide({ episode, cooldowns, backends: list, now, policy });
    log.push({ at: now, d });
    if (d.kind === 'attempt') {
      const at = now;
      now += options.costMs ?? 10;
      const result = outcome(d.backend, at);
      if (result === 'ok') {
        episode.attempts.push({ backend: d.backend.id, pass: d.pass, at, end: now, textSent: true });
        clearAfterSuccess(cooldowns, d.backend.id);
        // As chain-llm does when the turn is answered: what this pass went around cools one step longer.
        const around = episode.attempts.filter((a) => a.pass === d.pass && a.failure).map((a) => a.backend);
        for (const [id, c] of cooldownsAfterAnsweredAround(around, cooldowns, now, policy)) cooldowns.set(id, c);
      }
      else {
        const failure = 'fact' in result ? result.fact : result;
        const textSent = 'fact' in result;
        // As chain-llm books a failed request: every model it carried (models[]) failed in it.
        const [, ...carried] = carriedBackends(list, d.backend);
        episode.attempts.push({ backend: d.backend.id, pass: d.pass, at, end: now, textSent, failure, ...(d.probe && { probe: true }) });
        for (const c of carried) episode.attempts.push({ backend: c.id, pass: d.pass, at, end: now, textSent, failure });
        mergeCooldowns(cooldowns, withCarried(cooldownsAfter(d.backend, failure, now, list, policy, cooldowns), d.backend, textSent ? [] : carried, cooldowns));
      }
    } else if (d.kind === 'skip') {
      episode.skips.push({ backend: d.backend.id, pass: d.pass, at: now, until: d.until });
      const current = cooldowns.get(d.backend.id);
      if (d.shared && current) mergeCooldowns(cooldowns, [[d.backend.id, { ...current, until: d.until }]]);
    } else if (d.kind === 'hold') {
      episode.held = true;
    } else if (d.kind === 'wait') {
      now = d.until;
      episode.waits += 1;
    } else {
      return { log, episode, cooldowns, end: now };
    }
  }
  throw new Error('episode did not end');
}

const kinds = (log: { d: Decision }[]) =>
  log.map(({ d }) => (d.kind === 'attempt' || d.kind === 'skip' ? `${d.kind}:${d.backend.id}` : d.kind));
const fail = (cls: FailureClass, extra: Partial<FailureFacts> = {}): FailureFacts => ({ cls, ...extra });

describe('policy: a pass', () => {
  it('answers from the first backend without holding', () => {
    const { log } = play(() => 'ok');
    expect(kinds(log)).toEqual(['attempt:openrouter:a/one', 'done']);
  });

  it('moves to the next backend at once after a failure before the first token (no wait, no hold)', () => {
    const { log } = play((b) => (b === A ? fail('unavailable', { status: 404 }) : 'ok'));
    expect(kinds(log)).toEqual(['attempt:openrouter:a/one', 'attempt:openrouter:b/two', 'done']);
    expect(log[1]?.at).toBe(10); // right after the first attempt ended
  });

  it('falls through the whole OpenRouter chain to the local server', () => {
    const { log } = play((b) => (b === L ? 'ok' : fail('rate-limit', { retryAfterMs: 2_000 })));
    expect(kinds(log)).toEqual(['attempt:openrouter:a/one', 'attempt:openrouter:b/two', 'attempt:local', 'done']);
  });

  it('skips a backend in cooldown without a request', () => {
    const cooldowns = new Map<string, Cooldown>([[A.id, { until: 5_000, cls: 'rate-limit' }]]);
    const { log } = play(() => 'ok', { cooldowns });
    expect(kinds(log)).toEqual(['skip:openrouter:a/one', 'attempt:openrouter:b/two', 'done']);
  });

  it('tries a model again once its cooldown has ended', () => {
    const cooldowns = new Map<string, Cooldown>([[A.id, { until: 5_000, cls: 'rate-limit' }]]);
    const { log } = play(() => 'ok', { cooldowns, start: 5_000 });
    expect(kinds(log)).toEqual(['attempt:openrouter:a/one', 'done']);
  });
});

describe('policy: a flapping local server', () => {
  it('a local server that dropped the connection (not refused) is asked again at once, without a cooldown', () => {
    let resets = 2;
    const { log, cooldowns } = play((b) => {
      if (b !== L) return fail('unavailable', { status: 502 });
      return resets-- > 0 ? fail('connection', { refused: false }) : 'ok';
    });
    expect(kinds(log)).toEqual(['attempt:openrouter:a/one', 'attempt:openrouter:b/two', 'attempt:local', 'attempt:local', 'attempt:local', 'done']);
    expect(log.at(-1)?.at).toBe(50); // no hold, no wait: five requests of 10 ms
    expect(cooldowns.has(L.id)).toBe(false);
  });

  it('at most LOCAL_TRIES_PER_PASS in a pass; then the pass is over and the next one (after the backoff) asks it again', () => {
    let resets = 3;
    const { log } = play((b) => {
      if (b !== L) return fail('unavailable', { status: 502 });
      return resets-- > 0 ? fail('connection', { refused: false }) : 'ok';
    });
    expect(kinds(log).filter((k) => k === 'attempt:local')).toHaveLength(4);
    expect(kinds(log)).toContain('hold');
    const lastWait = log.filter(({ d }) => d.kind === 'wait').at(-1);
    // The OpenRouter models cool for 5 s; the local server is up, so the wait is the 1 s backoff, not theirs.
    expect(lastWait?.d).toMatchObject({ until: 1_050 });
  });

  it('a refused connection (nothing listens) is a server that is down: one request a pass, and a cooldown', () => {
    const { log, cooldowns } = play((b) => (b === L ? fail('connection', { refused: true }) : fail('unavailable', { status: 502 })), { list: [A, L] });
    const firstPass = log.filter(({ d }) => d.kind === 'attempt' && d.pass === 1);
    expect(firstPass.map(({ d }) => (d as { backend: Backend }).backend.id)).toEqual([A.id, L.id]);
    expect(cooldowns.get(L.id)?.cls).toBe('connection');
  });
});

describe('policy: hold, backoff and the retry window', () => {
  it('rate-limit storm: holds once, waits for the cooldowns with backoff, then answers', () => {
    // Every OpenRouter model 429 with Retry-After 2s until t=8s; local down.
    const { log } = play((b, at) => {
      if (b === L) return fail('connection');
      return at < 8_000 ? fail('rate-limit', { retryAfterMs: 2_000 }) : 'ok';
    });
    const holds = log.filter(({ d }) => d.kind === 'hold');
    expect(holds).toHaveLength(1);
    expect(holds[0]?.at).toBe(30); // after the first pass: A, B, local
    const waits = log.filter(({ d }) => d.kind === 'wait').map(({ at, d }) => [at, (d as { until: number }).until]);
    // Never before a cooldown ends (2s after each 429); a rate limit's reset time paces the passes even where the
    // backoff (1, 2, 4 s) would wait longer: before, the third wait was [4_060, 8_060] (the 4 s backoff).
    expect(waits).toEqual([
      [30, 2_020], // A and B cool until 2010 and 2020: one group, so the next pass finds both free
      [2_040, 4_040], // the group 4030..4040 (the 2 s backoff ends at 4040 too); local still cooling (until 5030)
      [4_060, 6_060], // the reset at 6060 (before: the 4 s backoff's 8060)
      [6_090, 8_080], // the local server's cooldown ended at 5030: asked (refused) in that pass too
    ]);
    expect(kinds(log).at(-2)).toBe('attempt:openrouter:a/one');
    expect(kinds(log).at(-1)).toBe('done');
  });

  it("a rate limit's reset time sooner than the backoff paces the next pass; a 5xx's Retry-After does not", () => {
    // Every OpenRouter model 429 free-models-per-min, Retry-After 1 s, until 5 s (bench:failover's row); local down.
    const free = [or('a/one:free'), or('b/two:free'), L];
    const storm = (retry: FailureFacts) => (b: Backend, at: number) => (b === L ? fail('connection', { refused: true }) : at < 5_000 ? retry : ('ok' as const));
    const asked = (l: { at: number; d: Decision }[]) => l.flatMap(({ at, d }) => (d.kind === 'attempt' && d.backend !== L ? [at] : []));
    const perMinute = play(storm(fail('rate-limit', { status: 429, retryAfterMs: 1_000, keyWide: true })), { list: free });
    // Before: passes at 0, 1, 3 and 7 s (the backoff), both models each time, the answer at 7 s. Now one pass a
    // second, the key's limit asked through one model, the answer right after the storm.
    // (Each pass 1 s after the decision to wait, not before: a reset is never a reason to pass sooner than that.)
    expect(asked(perMinute.log)).toEqual([0, 1_020, 2_030, 3_040, 4_050, 5_060]);
    expect(perMinute.log.filter(({ d }) => d.kind === 'skip' && d.backend.id === 'openrouter:b/two:free')).toHaveLength(5);
    // A 503 with the same Retry-After is a server in trouble: the backoff still paces it (0, 1, 3, 7 s).
    const unavailable = play(storm(fail('unavailable', { status: 503, retryAfterMs: 1_000 })), { list: free });
    const passes = (l: { at: number; d: Decision }[]) => l.flatMap(({ d }) => (d.kind === 'wait' ? [d.until] : []));
    expect(passes(unavailable.log).slice(0, 3)).toEqual([1_030, 3_050, 7_070]);
  });

  it("a told reset never paces the passes faster than the first backoff step (a Retry-After of 1 ms is not a storm)", () => {
    const free = [or('a/one:free'), or('b/two:free'), L];
    const storm = (b: Backend) => (b === L ? fail('connection', { refused: true }) : fail('rate-limit', { status: 429, retryAfterMs: 1, keyWide: true }));
    const { log } = play(storm, { list: free });
    const passes = log.flatMap(({ at, d }) => (d.kind === 'attempt' && d.backend.id === 'openrouter:a/one:free' ? [at] : []));
    expect(passes.length).toBeGreaterThan(3);
    // Passes at least the policy's first backoff step (1 s) apart, not the 1 ms the server said (but the last, which
    // the retry window's end may bring sooner).
    for (let i = 1; i < passes.length - 1; i++) expect((passes[i] as number) - (passes[i - 1] as number)).toBeGreaterThanOrEqual(1_000);
    // ... and the retry window (60 s) holds at most one pass a second, not thousands.
    expect(log.filter(({ d }) => d.kind === 'attempt' && d.backend !== L).length).toBeLessThanOrEqual(61);
  });

  it('a local server that refused the connection does not stand in for a probe of a guessed model', () => {
    // bench:failover's 30 s storm (local down): both models out on a 16 s guess from 26.5 s; the local server's own
    // cooldown ends at 34.5 s. Before: the pass at 34.5 s asked only the refused local server and waited for the
    // guess to end at 42.5 s, 12.5 s after the storm; now that pass probes the first model, which answers.
    const cooldowns = () =>
      new Map<string, Cooldown>([
        [A.id, { until: 42_520, cls: 'rate-limit', streak: 4, guessed: true, since: 26_520 }],
        [B.id, { until: 42_520, cls: 'rate-limit', streak: 3, guessed: true, since: 18_520 }],
        [L.id, { until: 34_520, cls: 'connection', streak: 3, guessed: true, since: 18_520 }],
      ]);
    const { log } = play((b) => (b === L ? fail('connection', { refused: true }) : 'ok'), { cooldowns: cooldowns(), start: 34_520 });
    expect(kinds(log)).toEqual(['skip:openrouter:a/one', 'skip:openrouter:b/two', 'attempt:local', 'attempt:openrouter:a/one', 'done']);
    expect(log.at(-1)!.at).toBeLessThan(35_000);
    // A probe that fails early confirms the guess rather than growing it (the model keeps its end and streak).
    const early = play((b) => (b === L ? fail('connection', { refused: true }) : b === A ? fail('rate-limit', { status: 429 }) : 'ok'), {
      cooldowns: cooldowns(),
      start: 34_520,
    });
    expect(early.cooldowns.get(A.id)).toMatchObject({ until: 42_520, streak: 4 });
    // A local server whose connection was dropped (not refused) is up: it still counts as asked.
    const dropped = play((b) => (b === L ? fail('connection', { refused: false }) : 'ok'), { cooldowns: cooldowns(), start: 34_520 });
    expect(kinds(dropped.log)).not.toContain('attempt:openrouter:a/one');
  });

  it('everything down longer than the window: hold, retries inside the window, then the apology near 60 s', () => {
    const { log, end } = play((b) => (b === L ? fail('connection') : fail('unavailable', { status: 503 })));
    expect(log.filter(({ d }) => d.kind === 'hold')).toHaveLength(1);
    const last = log.at(-1)!;
    expect(last.d).toEqual({ kind: 'apology', reason: 'retry window over' });
    const windowEnd = 10 + 60_000; // from the first failure
    const passStarts = log.filter(({ d }) => d.kind === 'wait').map(({ d }) => (d as { until: number }).until);
    // Passes start when a guessed cooldown ends; they grow (5 s, 10 s, 20 s...) and the models share failed
    // probes, so passes come every 10 s instead of every 8 s backoff step, and the last is at the window's end.
    // (The refused local server no longer stretches a group: each pass starts at the models' end, 10 ms sooner.)
    expect(passStarts).toEqual([5_020, 15_030, 25_040, 35_050, 45_050, windowEnd]);
    expect(Math.max(...passStarts)).toBeLessThanOrEqual(windowEnd);
    expect(end).toBeGreaterThan(windowEnd - policy.backoffMaxMs);
    expect(end).toBeLessThanOrEqual(windowEnd + 30);
  });

  it('backoff doubles up to its maximum', () => {
    const { log } = play((b) => (b === L ? fail('connection') : fail('unavailable', { status: 503, retryAfterMs: 0 })), { costMs: 0 });
    const gaps = log.filter(({ d }) => d.kind === 'wait').map(({ at, d }) => (d as { until: number }).until - at);
    expect(gaps.slice(0, 6)).toEqual([1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
  });

  it('waits for a Retry-After longer than the backoff before asking that model again', () => {
    const { log } = play((b, at) => {
      if (b === L) return fail('connection');
      if (b === B) return fail('unavailable', { status: 404 });
      return at < 20_000 ? fail('rate-limit', { retryAfterMs: 20_000 }) : 'ok';
    });
    const attemptsOnA = log.filter(({ d }) => d.kind === 'attempt' && d.backend === A).map(({ at }) => at);
    expect(attemptsOnA).toHaveLength(2);
    expect(attemptsOnA[1]).toBeGreaterThanOrEqual(20_010); // not before Retry-After ran out
    expect(log.filter(({ d }) => d.kind === 'skip' && d.backend === A).length).toBeGreaterThan(0);
  });

  it('no transient failure: apologises at once (bad request everywhere, local down)', () => {
    const { log } = play((b) => (b === L ? fail('connection') : fail('bad-request', { status: 400 })));
    expect(kinds(log)).toEqual(['attempt:openrouter:a/one', 'attempt:openrouter:b/two', 'attempt:local', 'apology']);
  });

  it('account problem: the rest of OpenRouter is skipped this pass and later', () => {
    const { log, cooldowns } = play((b) => (b === L ? 'ok' : fail('account', { status: 401 })));
    expect(kinds(log)).toEqual(['attempt:openrouter:a/one', 'skip:openrouter:b/two', 'attempt:local', 'done']);
    expect(cooldowns.get(B.id)?.until).toBe(10 + 600_000);
  });

  it('account problem and local down: apology at once, no hold', () => {
    const { log } = play((b) => (b === L ? fail('connection') : fail('account', { status: 402 })));
    expect(kinds(log)).toEqual(['attempt:openrouter:a/one', 'skip:openrouter:b/two', 'attempt:local', 'apology']);
  });

  it('a failure after part of the answer was spoken: no switch, the apology', () => {
    const { log } = play((b) => (b === A ? { fact: fail('connection'), textSent: true } : 'ok'));
    expect(kinds(log)).toEqual(['attempt:openrouter:a/one', 'apology']);
  });

  it('a failure after a tool call was handed on: done, no switch and no apology (the call runs, its follow-up answers)', () => {
    const episode = newEpisode(0);
    episode.attempts.push({ backend: A.id, pass: 1, at: 0, end: 10, textSent: true, toolCallSent: true, failure: fail('connection') });
    expect(decide({ episode, cooldowns: new Map(), backends, now: 10, policy })).toEqual({ kind: 'done' });
  });

  it('backends that failed milliseconds apart come back together; one cooling a second later does not', () => {
    const cooldowns = new Map<string, Cooldown>([
      [A.id, { until: 3_000, cls: 'rate-limit' }],
      [B.id, { until: 3_040, cls: 'rate-limit' }],
      [L.id, { until: 4_000, cls: 'connection' }],
    ]);
    const { log } = play(() => 'ok', { cooldowns });
    expect(log.find(({ d }) => d.kind === 'wait')?.d).toMatchObject({ until: 3_040, reason: 'a cooldown ends (backoff 1000 ms was shorter), pass 2 next' });
  });

  it('a refused local server does not stretch a group: the models are asked when their rate limit resets', () => {
    // bench:failover's 5 s storm: the key's 429 ends at 6051; the refused local server's guess at 6427.
    const cooldowns = new Map<string, Cooldown>([
      [A.id, { until: 6_051, cls: 'rate-limit' }],
      [B.id, { until: 6_051, cls: 'rate-limit' }],
      [L.id, { until: 6_427, cls: 'connection', guessed: true }],
    ]);
    const { log } = play((b) => (b === L ? fail('connection', { refused: true }) : 'ok'), { cooldowns, start: 5_052 });
    // Not the local server's 6427; no sooner than the reset, nor than a second after the decision to wait.
    const wait = log.find(({ d }) => d.kind === 'wait');
    expect(wait?.d).toMatchObject({ kind: 'wait' });
    const until = (wait?.d as { until: number }).until;
    expect(until).toBe(Math.max(6_051, (wait?.at as number) + 1_000));
    expect(until).toBeLessThan(6_427);
  });

  it('a turn that starts with every backend cooling down still holds and waits for the first to return', () => {
    const cooldowns = new Map<string, Cooldown>([
      [A.id, { until: 3_000, cls: 'rate-limit' }],
      [B.id, { until: 4_000, cls: 'rate-limit' }],
      [L.id, { until: 9_000, cls: 'connection' }],
    ]);
    const { log } = play(() => 'ok', { cooldowns });
    expect(kinds(log)).toEqual(['skip:openrouter:a/one', 'skip:openrouter:b/two', 'skip:local', 'hold', 'wait', 'attempt:openrouter:a/one', 'done']);
    expect(log.find(({ d }) => d.kind === 'wait')?.d).toMatchObject({ until: 3_000 });
  });
});

describe('cooldowns', () => {
  const now = 1_000;
  it('rate limit: Retry-After first, then X-RateLimit-Reset, then the default', () => {
    const told = { cls: 'rate-limit', streak: 1, since: now };
    expect(cooldownsAfter(A, fail('rate-limit', { retryAfterMs: 2_000, resetAt: 60_000 }), now, backends, policy)).toEqual([[A.id, { until: 3_000, ...told }]]);
    expect(cooldownsAfter(A, fail('rate-limit', { resetAt: 60_000 }), now, backends, policy)).toEqual([[A.id, { until: 60_000, ...told }]]);
    // No reset time: our guess, marked so (the next request is a probe).
    expect(cooldownsAfter(A, fail('rate-limit'), now, backends, policy)).toEqual([[A.id, { until: 11_000, ...told, guessed: true }]]);
  });
  it('a daily limit keeps the model out until the reset, whatever Retry-After says', () => {
    expect(cooldownsAfter(A, fail('rate-limit', { daily: true, retryAfterMs: 1_000, resetAt: 86_400_000 }), now, backends, policy)).toEqual([
      [A.id, { until: 86_400_000, cls: 'rate-limit', streak: 1, since: now }],
    ]);
  });
  it("free-models-per-day (the key's daily limit) cools every :free model until the day's reset, not a paid one", () => {
    const [F1, F2, P] = [or('a/one:free'), or('b/two:free'), or('c/paid')];
    const list = [F1, F2, P, L];
    const book = new Map<string, Cooldown>([[F2.id, { until: 500, cls: 'unavailable', streak: 2, guessed: true, since: 100 }]]);
    // Midnight of the scenario calendar, as the fake's X-RateLimit-Reset tells it; a Retry-After does not shorten it.
    const midnight = 43_200_000;
    const daily = new Map(cooldownsAfter(F1, fail('rate-limit', { status: 429, daily: true, keyWide: true, retryAfterMs: 1_000, resetAt: midnight }), now, list, policy, book));
    expect(daily.get(F1.id)).toEqual({ until: midnight, cls: 'rate-limit', streak: 1, since: now });
    expect(daily.get(F2.id)).toEqual({ until: midnight, cls: 'rate-limit', streak: 2, since: 100 });
    expect(daily.has(P.id)).toBe(false);
    expect(daily.has(L.id)).toBe(false);
  });
  it('404 keeps a model out longer than 503', () => {
    expect(cooldownsAfter(A, fail('unavailable', { status: 404 }), now, backends, policy)[0]?.[1].until).toBe(301_000);
    expect(cooldownsAfter(A, fail('unavailable', { status: 503 }), now, backends, policy)[0]?.[1].until).toBe(6_000);
  });
  it("free-models-per-min (the key's limit) cools every :free model until the same end; an upstream 429 only the model", () => {
    const [F1, F2, P] = [or('a/one:free'), or('b/two:free'), or('c/paid')];
    const list = [F1, F2, P, L];
    const book = new Map<string, Cooldown>([[F2.id, { until: 500, cls: 'unavailable', streak: 2, guessed: true, since: 100 }]]);
    const keyWide = new Map(cooldownsAfter(F1, fail('rate-limit', { status: 429, retryAfterMs: 1_000, keyWide: true }), now, list, policy, book));
    expect(keyWide.get(F1.id)).toEqual({ until: 2_000, cls: 'rate-limit', streak: 1, since: now });
    // Not a failure of its own: its streak and failure time stay (a told end, no guess).
    expect(keyWide.get(F2.id)).toEqual({ until: 2_000, cls: 'rate-limit', streak: 2, since: 100 });
    expect(keyWide.has(P.id)).toBe(false);
    expect(keyWide.has(L.id)).toBe(false);
    const upstream = new Map(cooldownsAfter(F1, fail('rate-limit', { status: 429, retryAfterMs: 1_000 }), now, list, policy, book));
    expect([...upstream.keys()]).toEqual([F1.id]);
    // A paid model that met it is not one of the key's :free models: only itself.
    expect([...new Map(cooldownsAfter(P, fail('rate-limit', { status: 429, retryAfterMs: 1_000, keyWide: true }), now, list, policy)).keys()]).toEqual([P.id]);
  });

  it('a bad request sets no cooldown; an account problem cools every OpenRouter model, not the local one', () => {
    expect(cooldownsAfter(A, fail('bad-request'), now, backends, policy)).toEqual([]);
    expect(cooldownsAfter(A, fail('account'), now, backends, policy).map(([id]) => id)).toEqual([A.id, B.id]);
  });
  it('merging keeps the later end', () => {
    const book = new Map<string, Cooldown>([[A.id, { until: 9_000, cls: 'timeout' }]]);
    mergeCooldowns(book, [[A.id, { until: 5_000, cls: 'rate-limit' }]]);
    expect(book.get(A.id)).toEqual({ until: 9_000, cls: 'timeout' });
  });
});

describe('cooldowns that learn', () => {
  const down = fail('unavailable', { status: 502 });

  it('a guessed cooldown doubles with each failure in a row up to the cap; one success forgets the streak', () => {
    const book = new Map<string, Cooldown>();
    const lengths: number[] = [];
    let now = 0;
    for (let i = 0; i < 6; i++) {
      mergeCooldowns(book, cooldownsAfter(A, down, now, backends, policy, book));
      lengths.push((book.get(A.id)?.until ?? 0) - now);
      now = book.get(A.id)?.until ?? now;
    }
    expect(lengths).toEqual([5_000, 10_000, 20_000, 40_000, 60_000, 60_000]);
    clearAfterSuccess(book, A.id);
    mergeCooldowns(book, cooldownsAfter(A, down, now, backends, policy, book));
    expect(book.get(A.id)).toMatchObject({ until: now + 5_000, streak: 1, guessed: true });
  });

  it("a provider's reset time is taken as given, not grown", () => {
    const book = new Map<string, Cooldown>([[A.id, { until: 0, cls: 'rate-limit', streak: 4, guessed: true }]]);
    expect(cooldownsAfter(A, fail('rate-limit', { retryAfterMs: 1_000 }), 10, backends, policy, book)[0]?.[1]).toMatchObject({ until: 1_010, streak: 5 });
    expect(cooldownsAfter(A, fail('rate-limit', { retryAfterMs: 1_000 }), 10, backends, policy, book)[0]?.[1].guessed).toBeUndefined();
  });

  it('chain down, local up: the models share a failed probe, one dead request a round, probes rotate', () => {
    // Both models failed at 0 and 5 ms (guessed, 5 s); each later turn is answered by the local server.
    const cooldowns = new Map<string, Cooldown>();
    const asked: string[][] = [];
    for (const start of [0, 6_000, 12_000, 17_000, 40_000]) {
      const { log } = play((b) => (b === L ? 'ok' : down), { cooldowns, start, costMs: 5 });
      asked.push(kinds(log).filter((k) => k.startsWith('attempt:openrouter')));
    }
    expect(asked).toEqual([
      ['attempt:openrouter:a/one', 'attempt:openrouter:b/two'], // first failures: both asked (5 s, and 10 s once the local server answered)
      [], // both out until 10 s: no request
      ['attempt:openrouter:a/one'], // a/one failed longest ago: probed; it fails (20 s, then 40 s), so b/two shares its first new end (32 s)
      [], // both out: no request
      ['attempt:openrouter:b/two'], // now b/two waited longest: its turn to be probed
    ]);
  });

  it('a probe that succeeds ends the sharing: the recovered model answers', () => {
    const cooldowns = new Map<string, Cooldown>();
    play((b) => (b === L ? 'ok' : down), { cooldowns });
    const { log } = play((b) => (b === L ? 'ok' : 'ok'), { cooldowns, start: 11_000 });
    expect(kinds(log)).toEqual(['attempt:openrouter:a/one', 'done']);
    expect(cooldowns.has(A.id)).toBe(false);
  });

  it('a turn that finds every backend out on a guess probes the first guessed one instead of holding', () => {
    // After a long outage the guesses have grown to a minute; the first model is back.
    const cooldowns = new Map<string, Cooldown>([
      [A.id, { until: 121_000, cls: 'unavailable', streak: 5, guessed: true, since: 61_000 }],
      [B.id, { until: 120_000, cls: 'unavailable', streak: 5, guessed: true, since: 60_000 }],
      [L.id, { until: 122_000, cls: 'connection', streak: 5, guessed: true, since: 62_000 }],
    ]);
    const { log } = play(() => 'ok', { cooldowns, start: 76_000 });
    expect(kinds(log)).toEqual(['skip:openrouter:a/one', 'skip:openrouter:b/two', 'skip:local', 'attempt:openrouter:a/one', 'done']);
    // A provider's own reset time is still waited for.
    const told = new Map<string, Cooldown>([A, B, L].map((b, i) => [b.id, { until: 120_000 + i * 1_000, cls: 'rate-limit' }]));
    expect(kinds(play(() => 'ok', { cooldowns: told, start: 76_000 }).log)).toContain('hold');
  });

  it('models that failed differently do not share a probe', () => {
    const cooldowns = new Map<string, Cooldown>([
      [A.id, { until: 1_000, cls: 'unavailable', streak: 1, guessed: true, since: 0 }],
      [B.id, { until: 1_000, cls: 'connection', streak: 1, guessed: true, since: 0 }],
    ]);
    const { log } = play((b) => (b === L ? 'ok' : down), { cooldowns, start: 2_000 });
    expect(kinds(log)).toEqual(['attempt:openrouter:a/one', 'attempt:openrouter:b/two', 'attempt:local', 'done']);
  });

  it('a storm without reset time: probed soon after the first failure, answered soon after it ends', () => {
    // Every OpenRouter model 429 without Retry-After until 6 s; local down.
    const { log } = play((b, at) => (b === L ? fail('connection') : at < 6_000 ? fail('rate-limit', { status: 429 }) : 'ok'));
    const answered = log.at(-1)!.at;
    expect(log.at(-1)?.d.kind).toBe('done');
    // Guesses of 10 s (this test's RATE_LIMIT_COOLDOWN_MS) would answer at 10 s; the first retry comes at the base.
    expect(answered).toBeLessThan(6_000 + policy.rateLimitCooldownMs);
    const dead = log.filter(({ d }) => d.kind === 'attempt' && d.backend !== L).length - 1;
    expect(dead).toBeLessThanOrEqual(3);
  });
});

describe('cooldowns of a models[] request (OPENROUTER_SERVER_FALLBACK)', () => {
  // a/one's requests carry b/two in models[] (b/two is last and carries nothing), as backendsFrom builds them.
  const AF: Backend = { ...A, fallbackModels: [B.model] };
  const list = [AF, B, L];
  const twoSeconds: PolicyConfig = { ...basePolicy, unavailableCooldownMs: 2_000 };
  const outage40s = (b: Backend, at: number) => (b === L ? fail('connection', { refused: true }) : at < 40_000 ? fail('unavailable', { status: 503 }) : ('ok' as const));

  it('a failed request is one failure: the carried model shares its end, keeps its streak and when it last failed itself', () => {
    const book = new Map<string, Cooldown>([[B.id, { until: 2_000, cls: 'unavailable', streak: 1, guessed: true, since: 0 }]]);
    const updates = new Map(withCarried(cooldownsAfter(AF, fail('unavailable', { status: 503 }), 2_000, list, twoSeconds, book), AF, [B], book));
    expect(updates.get(AF.id)).toMatchObject({ until: 4_000, streak: 1, since: 2_000, guessed: true });
    expect(updates.get(B.id)).toMatchObject({ until: 4_000, streak: 1, since: 0, guessed: true });
    // Carried for the first time: a first failure of its own.
    expect(new Map(withCarried(cooldownsAfter(AF, fail('unavailable', { status: 503 }), 0, list, twoSeconds), AF, [B])).get(B.id)).toMatchObject({ until: 2_000, streak: 1, since: 0 });
  });

  it('everything down for 40 s: probes alternate and the guess grows as without models[], so the answer comes soon after the end', () => {
    // Before: each failed request grew both models' streaks and left them tied, so a/one was asked every round and
    // the guess doubled every round (2, 4, 8, 16, 32 s): the answer came only at the retry window's end, 60 s.
    const { log } = play(outage40s, { list, policy: twoSeconds });
    const asked = log.flatMap(({ at, d }) => (d.kind === 'attempt' && d.backend !== L ? [`${Math.round(at / 1000)}s:${d.backend.model}`] : []));
    expect(log.at(-1)?.d.kind).toBe('done');
    expect(asked.slice(1, 4)).toEqual(['2s:a/one', '6s:b/two', '10s:a/one']);
    expect(log.at(-1)!.at).toBeLessThan(45_000);
    // No more dead requests than the chain without models[] on the same outage.
    const alone = play(outage40s, { policy: twoSeconds }).log;
    const dead = (l: typeof log) => l.filter(({ at, d }) => d.kind === 'attempt' && d.backend !== L && at < 40_000).length;
    expect(dead(log)).toBeLessThanOrEqual(dead(alone));
  });
});

describe('cooldowns when something else answered', () => {
  const AF: Backend = { ...A, fallbackModels: [B.model] };
  const twoSeconds: PolicyConfig = { ...basePolicy, unavailableCooldownMs: 2_000 };
  const chainDown = (b: Backend) => (b === L ? ('ok' as const) : fail('unavailable', { status: 502 }));
  // "chain down, local up" in bench:failover: five turns about 2.8 s apart, each answered by the local server.
  const turns = [0, 2_800, 5_600, 8_400, 11_200];
  const dead = (list: Backend[]) => {
    const cooldowns = new Map<string, Cooldown>();
    return turns.flatMap((start) => play(chainDown, { list, cooldowns, start, policy: twoSeconds }).log).filter(({ d }) => d.kind === 'attempt' && d.backend !== L).length;
  };

  it('chain down, local up: the dead models cool one step longer each time the local server answers around them', () => {
    // Before: 2, 4, 8 s guesses probed at 2.8 and 8.4 s as well (3 dead with models[], 4 without).
    expect(dead([AF, B, L])).toBe(2);
    expect(dead([A, B, L])).toBe(3);
  });

  it('grows only guessed cooldowns of the answered pass, from when they failed; a timeout or a provider reset stays', () => {
    const book = new Map<string, Cooldown>([
      [A.id, { until: 2_000, cls: 'unavailable', streak: 1, guessed: true, since: 0 }],
      [B.id, { until: 30_000, cls: 'timeout', streak: 1, guessed: true, since: 0 }],
      ['c', { until: 1_000, cls: 'rate-limit', streak: 1, since: 0 }],
    ]);
    expect(cooldownsAfterAnsweredAround([A.id, B.id, 'c', A.id], book, 50, twoSeconds)).toEqual([[A.id, { until: 4_000, cls: 'unavailable', streak: 2, guessed: true, since: 0 }]]);
  });
});

describe('hold and hedge targets', () => {
  it('the hold is due HOLD_AFTER_MS after the turn, once', () => {
    const episode = newEpisode(1_000);
    expect(holdDueAt(episode, policy)).toBe(3_000);
    episode.held = true;
    expect(holdDueAt(episode, policy)).toBeUndefined();
  });

  it('a hedge goes to the next backend that is neither cooling nor a probe', () => {
    const input = (cooldowns: Map<string, Cooldown>) => ({ episode: newEpisode(0), cooldowns, backends, now: 100, policy });
    expect(hedgeTarget(input(new Map()), A)).toBe(B);
    expect(hedgeTarget(input(new Map([[B.id, { until: 500, cls: 'rate-limit' }]])), A)).toBe(L);
    expect(hedgeTarget(input(new Map([[B.id, { until: 50, cls: 'unavailable', guessed: true }]])), A)).toBe(L);
    expect(hedgeTarget(input(new Map()), L)).toBeUndefined();
  });
});

describe('a turn that met the storm only through skips (a fleet: another call made the failing requests)', () => {
  /** Every OpenRouter model skipped for another call's cooldown (now ended), the local server refused: pass 1 is over. */
  const episodeAfterSkips = (cls: FailureClass): Episode => ({
    ...newEpisode(0),
    held: true,
    skips: [
      { backend: A.id, pass: 1, at: 0, until: 400, cls },
      { backend: B.id, pass: 1, at: 0, until: 400, cls },
    ],
    attempts: [{ backend: L.id, pass: 1, at: 0, end: 10, textSent: false, failure: { cls: 'connection', refused: true } }],
  });
  const ended = (cls: FailureClass) =>
    new Map<string, Cooldown>([
      [A.id, { until: 400, cls }],
      [B.id, { until: 400, cls }],
      [L.id, { until: 5_000, cls: 'connection' }],
    ]);

  it('skipped for a rate limit whose cooldown has ended: worth another pass, not the apology', () => {
    const d = decide({ episode: episodeAfterSkips('rate-limit'), cooldowns: ended('rate-limit'), backends, now: 1_000, policy });
    expect(d.kind).not.toBe('apology');
    expect(['wait', 'attempt']).toContain(d.kind);
  });

  it('skipped for an account problem: the apology, as when the call met it itself', () => {
    expect(decide({ episode: episodeAfterSkips('account'), cooldowns: ended('account'), backends, now: 1_000, policy })).toEqual({
      kind: 'apology',
      reason: 'every failure was a bad request or an account problem',
    });
  });
});

describe("the retry window's last pass and another call's probe (a fleet)", () => {
  // The first failure at 0: the window ends at 60 s. The last pass, at its end: a/one refused because another call of
  // the fleet probes it (its verdict by the next look), b/two cooling, the local server refused.
  const end = 60_000;
  const lastPass = (aUntil: number, probing: boolean): Episode => ({
    ...newEpisode(0),
    held: true,
    waits: 7,
    attempts: [
      { backend: A.id, pass: 1, at: 0, end: 0, textSent: false, failure: { cls: 'rate-limit', status: 429 } },
      { backend: L.id, pass: 8, at: end, end: end, textSent: false, failure: { cls: 'connection', refused: true } },
    ],
    skips: [
      { backend: A.id, pass: 8, at: end, until: aUntil, cls: 'rate-limit', ...(probing && { probing: true as const }) },
      { backend: B.id, pass: 8, at: end, until: end + 30_000, cls: 'rate-limit' },
    ],
  });
  const cooling = (aUntil: number) =>
    new Map<string, Cooldown>([
      [A.id, { until: aUntil, cls: 'rate-limit' }],
      [B.id, { until: end + 30_000, cls: 'rate-limit' }],
      [L.id, { until: end + 5_000, cls: 'connection' }],
    ]);

  it("waits once for the probe's verdict, a look past the window's end, rather than apologise a moment before it", () => {
    expect(decide({ episode: lastPass(end + 1_000, true), cooldowns: cooling(end + 1_000), backends, now: end, policy })).toEqual({
      kind: 'wait',
      until: end + 1_000,
      reason: "another call's probe at the end of the retry window: its verdict",
    });
  });

  it('apologises when the model is cooling (no probe to hear), or when the verdict would come later than a look', () => {
    expect(decide({ episode: lastPass(end + 1_000, false), cooldowns: cooling(end + 1_000), backends, now: end, policy })).toEqual({ kind: 'apology', reason: 'retry window over' });
    // The next look, a second later: another call still probes. No second wait past the window.
    const later = end + 1_000;
    expect(decide({ episode: lastPass(later + 1_000, true), cooldowns: cooling(later + 1_000), backends, now: later, policy })).toEqual({ kind: 'apology', reason: 'retry window over' });
  });
});

describe('a model skipped in a pass whose cooldown ended before the pass did', () => {
  it('is asked in the next pass a first backoff step after it was skipped, not after the pass\'s backoff (it was never asked)', () => {
    // Pass 4: a/one 429 (its reset 30 s away), b/two skipped at 20 000 for a cooldown (another call's head start) that
    // ended at 20 100, the local server refused. At 20 300 the pass is over; b/two has been free for 200 ms.
    const episode: Episode = {
      ...newEpisode(0),
      held: true,
      waits: 3,
      attempts: [
        { backend: A.id, pass: 4, at: 20_000, end: 20_300, textSent: false, failure: { cls: 'rate-limit', status: 429, retryAfterMs: 30_000 } },
        { backend: L.id, pass: 4, at: 20_300, end: 20_300, textSent: false, failure: { cls: 'connection', refused: true } },
      ],
      skips: [{ backend: B.id, pass: 4, at: 20_000, until: 20_100, cls: 'rate-limit' }],
    };
    const cooldowns = new Map<string, Cooldown>([
      [A.id, { until: 50_300, cls: 'rate-limit', since: 20_300 }],
      [B.id, { until: 20_100, cls: 'rate-limit', since: 5_000 }],
      [L.id, { until: 25_300, cls: 'connection' }],
    ]);
    // A first backoff step after it was skipped (20 000 + 1 000), not the pass's backoff (8 s).
    expect(decide({ episode, cooldowns, backends, now: 20_300, policy })).toEqual({ kind: 'wait', until: 21_000, reason: 'a model skipped this pass is free, pass 5 next' });
    // Still cooling at the pass's end: the backoff's pace, as before.
    const cooling = new Map(cooldowns).set(B.id, { until: 26_000, cls: 'rate-limit', since: 5_000 });
    expect(decide({ episode, cooldowns: cooling, backends, now: 20_300, policy })).toMatchObject({ kind: 'wait', until: 26_000 });
  });
});
