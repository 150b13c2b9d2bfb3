/**
 * `POST /api/v1/chat/completions`: reads the request like OpenRouter (400 for a bad body, 404 for a model the
 * scenario does not serve, 404 for tools offered to a model declared without them or for `provider` preferences
 * no provider of the model meets), then for each model of
 * `model` + `models[]` in turn decides the fault (rules, first match wins) and runs it; a request no rule catches
 * that does not fit the model's context window gets OpenRouter's 400. A pre-stream error that OpenRouter would
 * fall back from moves on to the next model; anything else answers. The journal gets the requested model, the
 * model that served, the deciding rule and the outcome. Each `:free` model tried passes the key's free-model quota
 * (quota/quota.ts) after the rules: a rule's scripted error wins, otherwise a spent quota answers OpenRouter's 429.
 */
import type { RequestHandler } from 'express';
import { clip } from '../../../contract/printable.js';
import { Exchange } from '../exchange.js';
import { handleFault } from '../faults/index.js';
import { decide } from '../rules/decide.js';
import type { FakeState } from '../state.js';
import { generationFor } from '../wire/completion.js';
import { OBSERVED } from '../wire/errors.js';
import { specFor } from '../wire/catalog.js';
import type { OpenRouterError } from '../wire/errors.js';
import { route, type Routed } from '../wire/routing.js';
import { contextLengthMessage } from '../wire/presets.js';
import { answering, candidateModels, maxTokens, offersTools, promptTokens, readChatRequest, type ChatRequest } from '../wire/request.js';
import { decideOutcome, entryOf } from './journal.js';
import { sendError } from './respond.js';

export function chatRoute(state: FakeState): RequestHandler {
  return async (req, res) => {
    const entry = entryOf(res);
    const read = readChatRequest(typeof req.body === 'string' ? req.body : '');
    if (!read.ok) {
      entry.ruleText = `bad request: ${read.message}`;
      return sendError(res, { status: 400, message: read.message }, state.userId);
    }
    const request = read.request;
    const scenario = state.scenario;
    const requested = candidateModels(request);
    entry.model = requested[0] === undefined ? null : clip(requested[0]);
    entry.stream = request.stream === true;

    // No model at all: OpenRouter uses the account's default model; the fake's default is the agent's first.
    const models = requested.length === 0 ? [scenario.agent.models[0] as string] : requested.filter((m) => state.serves(m));
    if (models.length === 0) {
      entry.ruleText = 'the scenario serves no such model';
      return sendError(res, { status: 404, message: OBSERVED.noEndpoints(requested[0] ?? '') }, state.userId);
    }

    // The journal entry holds the key's short hash; the key check (requireKey, fast-chat) ran before this route.
    const keyId = entry.key ?? 'key_none';
    const open = state.track();
    res.on('close', open.abort);
    // A request answered from the backlog (backlog.ts) may have lost its client while it waited: the close came first.
    if (req.socket?.destroyed) open.abort();
    const ex = new Exchange({
      req,
      res,
      clock: state.clock,
      ticker: state.ticker,
      signal: open.signal,
      entry,
      request,
      reasons: (model) => specFor(scenario, model).reasoning,
      seed: scenario.seed,
      stream: entry.stream,
      keepAliveEveryMs: scenario.fake.keepAliveEveryMs,
      calendar: state.calendar,
      defaults: scenario.fake.reply,
      promptTokens: promptTokens(request),
      userId: state.userId,
      recordGeneration: (record) => {
        // A generation recorded again (a stream's final record) replaces its cost in the key's usage, not adds to it.
        const previousUsd = state.generations.get(record.generation.id)?.cost ?? 0;
        state.generations.set(record.generation.id, record);
        state.quota.spend(keyId, record.cost - previousUsd, entry.at);
      },
    });
    const fellBack: string[] = [];
    const asking = answering(request);
    try {
      for (const [i, model] of models.entries()) {
        const routed = routeRequest(scenario, model, request);
        const refused = 'error' in routed ? routed.error : undefined;
        if (refused) {
          // OpenRouter finds no endpoint before any provider is asked: no request counted, no rule consulted.
          entry.servedBy = model;
          entry.rule = null;
          if (i < models.length - 1) {
            fellBack.push(`${model}: ${refused.message} (fell back)`);
            continue;
          }
          entry.ruleText = [...fellBack, `${model}: ${refused.message}`].join(' -> ');
          state.events.emit('decided', entry);
          ex.sendError(refused);
          return decideOutcome(res, `${refused.status}`);
        }
        ex.model = model;
        ex.nth = state.nextNth(model);
        ex.generation = { ...generationFor(scenario.seed, model, ex.nth), ...('provider' in routed && { provider: routed.provider }) };
        const decision = decide(state.rules, { model, atMs: entry.at, stream: entry.stream, nth: ex.nth, seed: scenario.seed, answering: asking });
        // The limiter sees every try of a free model; a rule's scripted error wins over its 429, a shaped answer does not.
        const scripted = decision.rule !== null && (decision.fault.kind === 'error' || decision.fault.kind === 'status');
        const limited = state.quota.pass(keyId, model, entry.at, scripted);
        // No rule decided: the request meets the model as OpenRouter would, its context window included.
        const tooLong = decision.rule === null && !limited ? contextLengthError(scenario, model, ex.promptTokens, maxTokens(request)) : undefined;
        const text = limited ? limited.text : tooLong ? `the prompt does not fit ${model}'s context window` : decision.text;
        entry.servedBy = model;
        entry.rule = decision.rule?.index ?? null;
        entry.ruleText = fellBack.length === 0 ? text : [...fellBack, `${model}: ${text}`].join(' -> ');
        state.events.emit('decided', entry);

        const refusal = limited?.error ?? tooLong;
        const handled = refusal ? { error: refusal } : await handleFault(decision.fault, ex);
        if ('outcome' in handled) return decideOutcome(res, handled.outcome);
        if (handled.error.fallsBack && i < models.length - 1) {
          fellBack.push(`${model}: ${text} (fell back)`);
          continue;
        }
        ex.sendError(handled.error);
        return decideOutcome(res, `${handled.error.status}`);
      }
    } catch (err) {
      if (!open.signal.aborted) throw err;
      // The client left (or the fake is closing) mid-answer: stop writing, record it.
      decideOutcome(res, 'aborted');
      res.destroy();
    } finally {
      open.done();
    }
  };
}

/**
 * Where OpenRouter routes `model` for this request, before any rule: the first provider its `provider` preferences
 * allow, or the 404 when none does, or when it offers tools the model cannot call.
 */
function routeRequest(scenario: FakeState['scenario'], model: string, request: ChatRequest): Routed {
  const spec = specFor(scenario, model);
  if (offersTools(request) && !spec.tools) return { error: { status: 404, message: OBSERVED.noToolEndpoints, fallsBack: true } };
  return route(spec.providers, request.provider);
}

/** OpenRouter's 400 when the prompt and the output asked for exceed the model's context window. */
function contextLengthError(scenario: FakeState['scenario'], model: string, prompt: number, output: number | undefined): OpenRouterError | undefined {
  const { contextLength } = specFor(scenario, model);
  if (prompt + (output ?? 0) <= contextLength) return undefined;
  return { status: 400, message: contextLengthMessage(contextLength, prompt, output ?? 0), fallsBack: true };
}
