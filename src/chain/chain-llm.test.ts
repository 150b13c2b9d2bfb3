import { llm } from '@livekit/agents';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../contract/clock.js';
import type { AgentEvent, FailureClass } from '../../contract/events.js';
import { loadConfig } from '../config.js';
import type { AttemptRequest, AttemptResult } from './attempt.js';
import type { Backend } from './backends.js';
import { isSourcedChunk, type ChainLLM, type SourcedChunk } from './chain-llm.js';
import { createChain } from './create.js';
import { AgentEvents } from './events.js';

const env = { OPENROUTER_API_KEY: 'sk-or-v1-test', LLM_MODEL: 'a/one,b/two', LOCAL_LLM_BASE_URL: 'http://127.0.0.1:9/v1' };
const config = loadConfig(env);

type Script = (backend: Backend, now: number, req: AttemptRequest) => Promise<AttemptResult> | AttemptResult;

const ok = (req: AttemptRequest, text: string): AttemptResult => {
  req.onChunk({ id: 'gen-1', delta: { role: 'assistant', content: text } });
  return { cancelled: false, textSent: true, status: 200, ttftMs: 5 };
};
const failed = (cls: FailureClass, extra: Partial<NonNullable<AttemptResult['failure']>> = {}): AttemptResult => ({
  cancelled: false,
  textSent: false,
  failure: { class: cls, detail: cls, ...extra },
});

/** A backend that sends its first token `ttftMs` after the request (or is cancelled before). */
async function after(req: AttemptRequest, ttftMs: number, answer: () => AttemptResult): Promise<AttemptResult> {
  const cancelled = await req.clock.sleep(ttftMs, req.signal).then(
    () => false,
    () => true,
  );
  return cancelled ? { cancelled: true, textSent: false } : { ...answer(), ttftMs: ttftMs + 10 };
}

function setup(script: Script, extraEnv: Record<string, string> = {}) {
  const clock = new VirtualClock();
  const events = new AgentEvents(clock);
  const seen: AgentEvent[] = [];
  events.subscribe((e) => seen.push(e));
  const attempts: { backend: string; at: number }[] = [];
  const chain = createChain(Object.keys(extraEnv).length > 0 ? loadConfig({ ...env, ...extraEnv }) : config, clock, events, async (req) => {
    attempts.push({ backend: req.backend.id, at: clock.now() });
    await clock.sleep(10, req.signal).catch(() => undefined);
    if (req.signal.aborted) return { cancelled: true, textSent: false };
    return script(req.backend, clock.now(), req);
  });
  const errors: unknown[] = [];
  chain.on('error', (e) => errors.push(e));
  return { clock, chain, seen, attempts, errors };
}

function ask(text: string): llm.ChatContext {
  const ctx = llm.ChatContext.empty();
  ctx.addMessage({ role: 'user', content: text });
  return ctx;
}

/**
 * Reads a turn's stream, moving virtual time only when the chain waits on the clock (the framework's own
 * start-up runs on real macrotasks, so time must not run ahead of it).
 */
async function turn(clock: VirtualClock, chain: ChainLLM, text: string | llm.ChatContext, options: { closeAt?: number; toolChoice?: llm.ToolChoice; parallelToolCalls?: boolean } = {}) {
  const { closeAt: _closeAt, ...tooling } = options;
  const stream = chain.chat({ chatCtx: typeof text === 'string' ? ask(text) : text, ...tooling });
  const chunks: SourcedChunk[] = [];
  let done = false;
  const reading = (async () => {
    for await (const chunk of stream) if (isSourcedChunk(chunk)) chunks.push(chunk);
    done = true;
  })();
  let closeAt = options.closeAt;
  for (let i = 0; i < 20_000 && !done; i++) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    const next = clock.nextAt;
    if (closeAt !== undefined && (next === undefined || next >= closeAt)) {
      await clock.advance(Math.max(0, closeAt - clock.now()));
      stream.close();
      closeAt = undefined;
    } else if (next !== undefined) {
      await clock.advanceToNext();
    }
  }
  await reading;
  const spoken = chunks.map((c) => [c.source, c.delta?.content]);
  return { chunks, spoken };
}

describe('ChainLLM', () => {
  it('answers from the first model, every chunk tagged with its source', async () => {
    const { clock, chain, seen } = setup((b, _now, req) => ok(req, `answer from ${b.model}`));
    const { spoken } = await turn(clock, chain, 'hello');
    expect(spoken).toEqual([['openrouter:a/one', 'answer from a/one']]);
    expect(seen.find((e) => e.type === 'turn_end')).toMatchObject({ outcome: 'answered', source: 'openrouter:a/one' });
    expect(seen.find((e) => e.type === 'turn')).toMatchObject({ text: 'hello', turnId: 'turn-1' });
  });

  it('a rate-limit storm: the hold once, then the answer, and no error reaches the session', async () => {
    const { clock, chain, seen, errors } = setup((b, now, req) => {
      if (b.kind === 'local') return failed('connection');
      return now < 8_000 ? failed('rate-limit', { status: 429, retryAfterMs: 2_000 }) : ok(req, 'Paris is the capital of France.');
    });
    const { spoken } = await turn(clock, chain, 'What is the capital of France?');
    expect(spoken).toEqual([
      ['hold', 'Hang on a sec.'],
      ['openrouter:a/one', 'Paris is the capital of France.'],
    ]);
    const steps = seen.filter((e) => e.type === 'policy').map((e) => (e as { step: string }).step);
    expect(steps.filter((s) => s === 'hold')).toHaveLength(1);
    expect(steps.filter((s) => s === 'wait').length).toBeGreaterThanOrEqual(2);
    const answered = seen.find((e) => e.type === 'attempt' && e.outcome === 'ok');
    expect(answered?.at).toBeGreaterThanOrEqual(8_000);
    expect(errors).toEqual([]);
  });

  it('everything down: the hold, then the apology within the window, and the stream ends cleanly', async () => {
    const { clock, chain, seen, errors } = setup((b) => (b.kind === 'local' ? failed('connection') : failed('unavailable', { status: 503 })));
    const { spoken } = await turn(clock, chain, 'hi');
    expect(spoken).toEqual([
      ['hold', 'Hang on a sec.'],
      ['apology', "Sorry, I can't answer that right now."],
    ]);
    const end = seen.find((e) => e.type === 'turn_end');
    expect(end).toMatchObject({ outcome: 'apology', source: 'apology' });
    expect(end!.at).toBeGreaterThan(50_000);
    expect(end!.at).toBeLessThanOrEqual(60_100);
    expect(errors).toEqual([]);
  });

  it('a failure after part of the answer was spoken: no switch, the apology', async () => {
    const { clock, chain, attempts } = setup((b, _now, req) => {
      if (b.model === 'a/one') {
        req.onChunk({ id: 'g', delta: { role: 'assistant', content: 'Paris is' } });
        return { cancelled: false, textSent: true, failure: { class: 'connection', detail: 'terminated' } };
      }
      return ok(req, 'never');
    });
    const { spoken } = await turn(clock, chain, 'q');
    expect(spoken).toEqual([
      ['openrouter:a/one', 'Paris is'],
      ['apology', "Sorry, I can't answer that right now."],
    ]);
    expect(attempts.map((a) => a.backend)).toEqual(['openrouter:a/one']);
  });

  it("the framework's tool choice reaches every backend asked (after its tool-step limit it sends 'none')", async () => {
    const asked: Pick<AttemptRequest, 'toolChoice' | 'parallelToolCalls'>[] = [];
    const { clock, chain } = setup((backend, _now, req) => {
      asked.push({ toolChoice: req.toolChoice, parallelToolCalls: req.parallelToolCalls });
      return backend.model === 'a/one' ? failed('unavailable') : ok(req, 'Words, not a call.');
    });
    const { chunks } = await turn(clock, chain, 'Where is my order?', { toolChoice: 'none', parallelToolCalls: false });
    expect(chunks.map((c) => c.delta?.content)).toEqual(['Words, not a call.']);
    expect(asked).toEqual([
      { toolChoice: 'none', parallelToolCalls: false },
      { toolChoice: 'none', parallelToolCalls: false },
    ]);
  });

  it('a failure after a complete tool call was handed on: no switch, no apology; the call goes on to be run once', async () => {
    const call = llm.FunctionCall.create({ callId: 'call_1', name: 'lookup_order', args: '{"order_id":"4417"}' });
    const { clock, chain, attempts, seen } = setup((b, _now, req) => {
      if (b.model === 'a/one') {
        req.onChunk({ id: 'g', delta: { role: 'assistant', toolCalls: [call] } });
        return { cancelled: false, textSent: true, toolCallSent: true, failure: { class: 'connection', detail: 'terminated' } };
      }
      return ok(req, 'a different answer');
    });
    const { chunks, spoken } = await turn(clock, chain, 'where is my order 4417?');
    expect(chunks.flatMap((c) => c.delta?.toolCalls ?? []).map((c) => [c.callId, c.name])).toEqual([['call_1', 'lookup_order']]);
    expect(chunks.every((c) => c.source === 'openrouter:a/one')).toBe(true);
    expect(spoken.filter(([, text]) => text)).toEqual([]);
    expect(attempts.map((a) => a.backend)).toEqual(['openrouter:a/one']);
    // The turn is not over: it ends in the request that carries the call's result.
    expect(seen.filter((e) => e.type === 'turn_end')).toEqual([]);
  });

  it('a failure before any tool call was handed on (one cut inside its arguments) fails over like any other', async () => {
    const { clock, chain, attempts } = setup((b, _now, req) => (b.model === 'a/one' ? failed('connection') : ok(req, 'Order 4417 has shipped.')));
    const { spoken } = await turn(clock, chain, 'where is my order 4417?');
    expect(spoken).toEqual([['openrouter:b/two', 'Order 4417 has shipped.']]);
    expect(attempts.map((a) => a.backend)).toEqual(['openrouter:a/one', 'openrouter:b/two']);
  });

  it('a new turn during the wait cancels the episode silently', async () => {
    const { clock, chain, seen, attempts } = setup((b) => (b.kind === 'local' ? failed('connection') : failed('rate-limit', { retryAfterMs: 5_000 })));
    const { spoken } = await turn(clock, chain, 'first', { closeAt: 2_000 });
    expect(spoken).toEqual([['hold', 'Hang on a sec.']]);
    expect(seen.filter((e) => e.type === 'turn_end')).toMatchObject([{ outcome: 'cancelled', source: null }]);
    const before = attempts.length;
    await clock.advance(30_000);
    expect(attempts.length).toBe(before); // nothing more was asked for the cancelled turn
  });

  it('cooldowns outlive the turn: a model that 404ed is skipped next turn without a request', async () => {
    const { clock, chain, seen, attempts } = setup((b, _now, req) => (b.model === 'a/one' ? failed('unavailable', { status: 404 }) : ok(req, 'fine')));
    await turn(clock, chain, 'one');
    await turn(clock, chain, 'two');
    expect(attempts.map((a) => a.backend)).toEqual(['openrouter:a/one', 'openrouter:b/two', 'openrouter:b/two']);
    expect(seen.filter((e) => e.type === 'skip')).toMatchObject([{ turnId: 'turn-2', model: 'a/one' }]);
    expect(chain.status()[0]).toMatchObject({ backend: 'openrouter:a/one', ok: false, lastError: { class: 'unavailable' } });
  });

  it('an internal error still ends the turn with the apology, not silence', async () => {
    const { clock, chain } = setup(() => {
      throw new Error('bug');
    });
    const { spoken } = await turn(clock, chain, 'q');
    expect(spoken).toEqual([['apology', "Sorry, I can't answer that right now."]]);
  });

  it('nothing spoken names a model or an error', async () => {
    const { clock, chain } = setup((b) => (b.kind === 'local' ? failed('connection') : failed('bad-request', { status: 400 })));
    const { chunks } = await turn(clock, chain, 'q');
    const text = chunks.map((c) => c.delta?.content).join(' ');
    expect(text).toBe("Sorry, I can't answer that right now.");
    expect(text).not.toMatch(/a\/one|b\/two|400|error|rate|model/i);
  });
});

describe('ChainLLM: never a long silence, hedging', () => {
  const stall = (req: AttemptRequest) => after(req, 8_000, () => failed('stall', { status: 200 }));
  const policySteps = (seen: AgentEvent[], step: string) => seen.filter((e) => e.type === 'policy' && e.step === step);

  it('a stalled primary is hedged at HEDGE_MAX_MS: the next model answers, the stalled request is cancelled and cooled', async () => {
    const { clock, chain, seen, attempts } = setup((b, _now, req) => (b.model === 'a/one' ? stall(req) : ok(req, 'from b')));
    const { spoken } = await turn(clock, chain, 'q');
    expect(spoken).toEqual([['openrouter:b/two', 'from b']]);
    expect(attempts).toEqual([
      { backend: 'openrouter:a/one', at: 0 },
      { backend: 'openrouter:b/two', at: config.policy.hedgeMaxMs },
    ]);
    const tries = seen.filter((e) => e.type === 'attempt');
    expect(tries).toMatchObject([
      { model: 'a/one', outcome: 'cancelled', cooldownUntil: config.policy.hedgeMaxMs + 10 + config.policy.timeoutCooldownMs },
      { model: 'b/two', outcome: 'ok', hedge: true },
    ]);
    // No hold: the answer started before HOLD_AFTER_MS.
    expect(policySteps(seen, 'hold')).toEqual([]);
    // The next turn does not wait for the stalled model again, nor hedge.
    await turn(clock, chain, 'again');
    expect(attempts.slice(2).map((a) => a.backend)).toEqual(['openrouter:b/two']);
    expect(policySteps(seen, 'hedge')).toHaveLength(1);
  });

  it('nothing answers by HOLD_AFTER_MS: the hold, once, while the chain keeps trying, then the answer', async () => {
    const { clock, chain, seen } = setup((b, _now, req) => after(req, b.model === 'a/one' ? 5_000 : 6_000, () => ok(req, `from ${b.model}`)));
    const { spoken } = await turn(clock, chain, 'q');
    expect(spoken).toEqual([
      ['hold', 'Hang on a sec.'],
      ['openrouter:a/one', 'from a/one'],
    ]);
    const holds = policySteps(seen, 'hold');
    expect(holds).toHaveLength(1);
    expect(holds[0]?.at).toBe(config.policy.holdAfterMs);
    // The hedge to b/two started and lost: cancelled, without a cooldown (it was not late, it started late).
    expect(seen.filter((e) => e.type === 'attempt')).toMatchObject([
      { model: 'b/two', outcome: 'cancelled', hedge: true },
      { model: 'a/one', outcome: 'ok' },
    ]);
    expect(chain.status()[1]).toMatchObject({ ok: true });
  });

  it('a pass that fails after the timed hold does not hold again, and the apology still ends the window', async () => {
    const { clock, chain, seen } = setup((b, _now, req) =>
      b.kind === 'local' ? failed('connection') : after(req, 2_500, () => failed('unavailable', { status: 503 })),
    );
    const { spoken } = await turn(clock, chain, 'q');
    expect(spoken).toEqual([
      ['hold', 'Hang on a sec.'],
      ['apology', "Sorry, I can't answer that right now."],
    ]);
    expect(policySteps(seen, 'hold')).toHaveLength(1);
  });

  it('the hedge delay adapts to the model: a fast model is hedged at HEDGE_MIN_MS once its ttfts are known', async () => {
    let stalls = false;
    const { clock, chain, attempts } = setup((b, _now, req) => (b.model === 'a/one' && stalls ? stall(req) : after(req, 300, () => ok(req, 'fast'))));
    for (let i = 0; i < 3; i++) await turn(clock, chain, `warm ${i}`);
    stalls = true;
    const start = clock.now();
    const { spoken } = await turn(clock, chain, 'now it stalls');
    expect(spoken).toEqual([['openrouter:b/two', 'fast']]);
    expect(attempts.at(-1)).toEqual({ backend: 'openrouter:b/two', at: start + config.policy.hedgeMinMs });
  });

  it('no budget, no hedge: the hold bounds the silence and the first-token deadline moves on', async () => {
    const { clock, chain, seen, attempts } = setup((b, _now, req) => (b.model === 'a/one' ? stall(req) : ok(req, 'from b')), { HEDGE_BUDGET_PERCENT: '0' });
    const { spoken } = await turn(clock, chain, 'q');
    expect(spoken).toEqual([
      ['hold', 'Hang on a sec.'],
      ['openrouter:b/two', 'from b'],
    ]);
    expect(policySteps(seen, 'hedge')).toEqual([]);
    expect(attempts.map((a) => a.at)).toEqual([0, 8_010]);
  });

  it('the budget bounds hedges: after the burst, a late model is waited for', async () => {
    // a/one is late for its hedge delay every turn but still wins the race (the hedge loses, uncooled), so
    // every turn would hedge: the burst of 2 allows two, and 10% earns only 0.1 a request after that.
    const { clock, chain, seen } = setup((b, _now, req) => after(req, b.model === 'a/one' ? 1_500 : 1_000, () => ok(req, `from ${b.model}`)));
    for (let i = 0; i < 4; i++) await turn(clock, chain, `q${i}`);
    expect(policySteps(seen, 'hedge').map((e) => (e as { turnId: string }).turnId)).toEqual(['turn-1', 'turn-2']);
    expect(seen.filter((e) => e.type === 'turn_end').map((e) => (e as { source: string }).source)).toEqual(Array(4).fill('openrouter:a/one'));
  });

  it('a tool call from both requests reaches the session once: only the first to speak is passed on', async () => {
    const toolChunk = (req: AttemptRequest, id: string): AttemptResult => {
      req.onChunk({ id, delta: { role: 'assistant', toolCalls: [llm.FunctionCall.create({ callId: id, name: 'lookup', args: '{}' })] } });
      return { cancelled: false, textSent: true, status: 200 };
    };
    const { clock, chain, seen } = setup((b, _now, req) => after(req, b.model === 'a/one' ? 1_250 : 30, () => toolChunk(req, b.model)));
    const { chunks } = await turn(clock, chain, 'q');
    const calls = chunks.flatMap((c) => c.delta?.toolCalls ?? []);
    expect(calls.map((c) => c.callId)).toEqual(['b/two']);
    expect(seen.filter((e) => e.type === 'attempt')).toMatchObject([
      { model: 'a/one', outcome: 'cancelled' },
      { model: 'b/two', outcome: 'ok', hedge: true },
    ]);
  });

  it('the first request fails after the hedge started: the hedge answers, the failure is booked', async () => {
    const { clock, chain, seen } = setup((b, _now, req) =>
      b.model === 'a/one' ? after(req, 1_500, () => failed('unavailable', { status: 502 })) : after(req, 500, () => ok(req, 'from b')),
    );
    const { spoken } = await turn(clock, chain, 'q');
    expect(spoken).toEqual([['openrouter:b/two', 'from b']]);
    expect(seen.filter((e) => e.type === 'attempt')).toMatchObject([
      { model: 'a/one', outcome: 'unavailable' },
      { model: 'b/two', outcome: 'ok', hedge: true },
    ]);
  });

  it("models[]: an answer from OpenRouter's later model is that model's: source, events, cooldowns, status", async () => {
    // a/one's request carries b/two; OpenRouter fell back from a/one and b/two answered (the response names it).
    const { clock, chain, seen, attempts } = setup(
      (b, _now, req) => {
        if (b.model !== 'a/one') return ok(req, `plain ${b.model}`);
        req.onChunk({ id: 'g', delta: { role: 'assistant', content: 'from b' } }, 'b/two');
        return { cancelled: false, textSent: true, status: 200, ttftMs: 5, headersMs: 4, servedBy: 'b/two' };
      },
      { OPENROUTER_SERVER_FALLBACK: 'true' },
    );
    const { spoken } = await turn(clock, chain, 'q1');
    expect(spoken).toEqual([['openrouter:b/two', 'from b']]);
    expect(seen.filter((e) => e.type === 'attempt')).toMatchObject([
      { model: 'a/one', outcome: 'unavailable', latencyMs: 4, detail: 'OpenRouter fell back from it to b/two (models[])' },
      { model: 'b/two', outcome: 'ok', status: 200, ttftMs: 5 },
    ]);
    expect(seen.find((e) => e.type === 'turn_end')).toMatchObject({ outcome: 'answered', source: 'openrouter:b/two' });
    expect(chain.status()).toMatchObject([{ backend: 'openrouter:a/one', ok: false }, { backend: 'openrouter:b/two', ok: true }, { backend: 'local', ok: true }]);
    // The next turn does not send a/one's dead hop again while it cools: b/two is asked directly.
    await turn(clock, chain, 'q2');
    expect(attempts.map((a) => a.backend)).toEqual(['openrouter:a/one', 'openrouter:b/two']);
  });

  it('models[]: a request that failed after OpenRouter tried every model it carried cools every one of them', async () => {
    const { clock, chain, seen, attempts } = setup(
      (b, _now, req) => (b.kind === 'local' ? ok(req, 'from local') : failed('unavailable', { status: 502 })),
      { OPENROUTER_SERVER_FALLBACK: 'true' },
    );
    const { spoken } = await turn(clock, chain, 'q1');
    expect(spoken).toEqual([['local', 'from local']]);
    // One dead request, booked to both models it carried; b/two is not asked on its own to fail the same way.
    expect(attempts.map((a) => a.backend)).toEqual(['openrouter:a/one', 'local']);
    expect(seen.filter((e) => e.type === 'attempt')).toMatchObject([
      { model: 'a/one', outcome: 'unavailable', status: 502 },
      { model: 'b/two', outcome: 'unavailable', status: 502, detail: 'tried in the same request (models[]); unavailable' },
      { model: 'local', outcome: 'ok' },
    ]);
    expect(chain.status().map((s) => s.ok)).toEqual([false, false, true]);
    // Without the option the same outage costs a request per model.
    const plain = setup((b, _now, req) => (b.kind === 'local' ? ok(req, 'from local') : failed('unavailable', { status: 502 })));
    await turn(plain.clock, plain.chain, 'q1');
    expect(plain.attempts.map((a) => a.backend)).toEqual(['openrouter:a/one', 'openrouter:b/two', 'local']);
  });

  it("models[]: a request refused for a carried model OpenRouter does not know leaves that id out, and the asked model answers", async () => {
    const sent: string[][] = [];
    const { clock, chain } = setup(
      (b, _now, req) => {
        const carried = req.fallbackModels ?? b.fallbackModels ?? [];
        sent.push([b.model, ...carried]);
        // OpenRouter refuses the whole request when an id it carries is unknown (a typo in LLM_MODEL).
        if (b.model === 't/typo' || carried.includes('t/typo')) return failed('bad-request', { status: 400, detail: '400: t/typo is not a valid model ID', invalidModel: 't/typo' });
        return ok(req, `from ${b.model}`);
      },
      { LLM_MODEL: 'a/one,t/typo,c/three', OPENROUTER_SERVER_FALLBACK: 'true' },
    );
    expect((await turn(clock, chain, 'q1')).spoken).toEqual([['openrouter:c/three', 'from c/three']]);
    expect((await turn(clock, chain, 'q2')).spoken).toEqual([['openrouter:a/one', 'from a/one']]);
    // The typo is out (a 404's cooldown) and no longer carried: a/one's next request carries only c/three.
    expect(sent).toEqual([['a/one', 't/typo', 'c/three'], ['c/three'], ['a/one', 'c/three']]);
    const status = chain.status();
    expect(status.map((s) => [s.model, s.ok]).slice(0, 3)).toEqual([
      ['a/one', true],
      ['t/typo', false],
      ['c/three', true],
    ]);
    expect(status[1]?.lastError?.detail).toContain('t/typo is not a valid model ID');
  });

  it('models[]: a stall (a 200 OpenRouter does not fall back from) stays the model asked', async () => {
    const { clock, chain } = setup(
      (b, _now, req) => (b.model === 'a/one' ? { ...failed('stall'), status: 200 } : ok(req, `from ${b.model}`)),
      { OPENROUTER_SERVER_FALLBACK: 'true', HEDGE_BUDGET_PERCENT: '0' },
    );
    const { spoken } = await turn(clock, chain, 'q1');
    expect(spoken).toEqual([['openrouter:b/two', 'from b/two']]);
    expect(chain.status().map((s) => s.ok)).toEqual([false, true, true]);
  });

  it("a tool call's follow-up request is the same turn: one `turn`, one `turn_end`, in the follow-up", async () => {
    const call = llm.FunctionCall.create({ callId: 'call_7', name: 'lookup_order', args: '{"order_id":"4417"}' });
    const { clock, chain, seen } = setup((_b, _now, req) => {
      const last = req.chatCtx.items.at(-1);
      if (last?.type === 'function_call_output') return ok(req, 'It ships Friday.');
      req.onChunk({ id: 'g', delta: { role: 'assistant', toolCalls: [call] } });
      return { cancelled: false, textSent: true, toolCallSent: true, status: 200 };
    });
    const ctx = ask('where is my order 4417?');
    await turn(clock, chain, ctx);
    const followUp = ctx.copy();
    followUp.insert([call, llm.FunctionCallOutput.create({ callId: 'call_7', output: 'shipped', isError: false })]);
    const { spoken } = await turn(clock, chain, followUp);
    expect(spoken).toEqual([['openrouter:a/one', 'It ships Friday.']]);
    expect(seen.filter((e) => e.type === 'turn')).toMatchObject([{ turnId: 'turn-1', text: 'where is my order 4417?' }]);
    expect(seen.filter((e) => e.type === 'turn_end')).toMatchObject([{ turnId: 'turn-1', outcome: 'answered' }]);
    expect(seen.filter((e) => e.type === 'attempt').map((e) => (e as { turnId: string }).turnId)).toEqual(['turn-1', 'turn-1']);
    // The next question is a new turn.
    await turn(clock, chain, 'thanks');
    expect(seen.filter((e) => e.type === 'turn').map((e) => (e as { turnId: string }).turnId)).toEqual(['turn-1', 'turn-2']);
  });

  it('one hold per caller turn: a slow tool follow-up after a held request does not say it again', async () => {
    const call = llm.FunctionCall.create({ callId: 'call_9', name: 'lookup_order', args: '{"order_id":"4417"}' });
    // Both requests of the turn take 3 s before anything comes: past the hold threshold each time.
    const { clock, chain } = setup((_b, _now, req) => {
      const last = req.chatCtx.items.at(-1);
      if (last?.type === 'function_call_output') return after(req, 3_000, () => ok(req, 'It ships Friday.'));
      return after(req, 3_000, () => {
        req.onChunk({ id: 'g', delta: { role: 'assistant', toolCalls: [call] } });
        return { cancelled: false, textSent: true, toolCallSent: true, status: 200 };
      });
    });
    const ctx = ask('where is my order 4417?');
    const first = await turn(clock, chain, ctx);
    expect(first.spoken[0]).toEqual(['hold', config.holdMessage]);
    expect(first.spoken.filter(([source]) => source === 'hold')).toHaveLength(1);
    const followUp = ctx.copy();
    followUp.insert([call, llm.FunctionCallOutput.create({ callId: 'call_9', output: 'shipped', isError: false })]);
    const { spoken } = await turn(clock, chain, followUp);
    expect(spoken).toEqual([['openrouter:a/one', 'It ships Friday.']]);
  });

  it('a tool turn whose follow-up never comes (the caller spoke over it) ends cancelled when the next turn starts', async () => {
    const call = llm.FunctionCall.create({ callId: 'call_8', name: 'lookup_order', args: '{}' });
    const { clock, chain, seen } = setup((_b, _now, req) => {
      if (req.chatCtx.items.length > 1) return ok(req, 'Something else.');
      req.onChunk({ id: 'g', delta: { role: 'assistant', toolCalls: [call] } });
      return { cancelled: false, textSent: true, toolCallSent: true, status: 200 };
    });
    await turn(clock, chain, 'where is my order?');
    const next = ask('where is my order?');
    next.addMessage({ role: 'user', content: 'never mind' });
    await turn(clock, chain, next);
    expect(seen.filter((e) => e.type === 'turn_end')).toMatchObject([
      { turnId: 'turn-1', outcome: 'cancelled' },
      { turnId: 'turn-2', outcome: 'answered' },
    ]);
  });
});
