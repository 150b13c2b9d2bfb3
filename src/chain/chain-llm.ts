/**
 * holdline's LLM: an `llm.LLM` (LiveKit's own contract) over the backend chain, driven by the pure policy.
 * Its stream never fails: every turn ends in an answer or the apology, so the session never sees an LLM
 * error, never goes silent on a turn, and never closes because of one. Why not FallbackAdapter (measured by
 * bench/failover): it switches on any error, sends duplicate recovery requests, has no time-to-first-token
 * deadline, and ends failed turns in silence.
 *
 * Every chunk carries its `source` (hold, apology, local, openrouter:<model>) so the voice layer can speak
 * the hold as its own utterance and attribute what the caller heard. Nothing spoken names a model or an error.
 */
import { APIConnectOptions, llm } from '@livekit/agents';
import type { Clock } from '../../contract/clock.js';
import type { Source, TokenUsage } from '../../contract/events.js';
import type { PolicyConfig } from '../config.js';
import { ensureFrameworkLogger } from '../framework-logger.js';
import type { AttemptRequest, AttemptResult, AttemptRunner } from './attempt.js';
import { carriedBackends, fellBackFrom, isFree, openRouterBackend, servedBackend, type Backend } from './backends.js';
import type { Failure } from './classify.js';
import { clearAfterSuccess, cooldownsAfter, cooldownsAfterAnsweredAround, withCarried, mergeCooldowns, type Cooldown, type FailureFacts } from './cooldown.js';
import type { AgentEvents } from './events.js';
import { HedgeBudget, hedgeDelayMs, TtftBook } from './hedge.js';
import { decide, hedgeTarget, holdDueAt, newEpisode, type Episode } from './policy.js';
import { race, type Lane } from './race.js';
import type { SharedCooldowns, SharedRecord } from './shared-cooldowns.js';

/** A chat chunk that says who produced it. The voice layer reads `source`; everything else sees a ChatChunk. */
export interface SourcedChunk extends llm.ChatChunk {
  source: Source;
  turnId: string;
}

export function isSourcedChunk(value: unknown): value is SourcedChunk {
  return typeof value === 'object' && value !== null && 'source' in value && 'turnId' in value;
}

export interface BackendStatus {
  backend: string;
  kind: Backend['kind'];
  model: string;
  ok: boolean;
  /** Scenario ms until which it is skipped, when cooling down. */
  coolingUntil?: number;
  lastError?: { class: string; detail: string; at: number };
}

/** One backend's generations since the chain started: what OpenRouter's `usage` said they cost. */
export interface UsageRow {
  backend: string;
  model: string;
  /** Generations that reported usage. */
  requests: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
}

export interface ChainOptions {
  backends: Backend[];
  policy: PolicyConfig;
  holdMessage: string;
  apologyMessage: string;
  clock: Clock;
  events: AgentEvents;
  runAttempt: AttemptRunner;
  /** Cooldowns shared with every process on the same key (`REDIS_URL`); without it, each chain keeps its own. */
  shared?: SharedCooldowns;
}

export class ChainLLM extends llm.LLM {
  readonly cooldowns = new Map<string, Cooldown>();
  /** Recent times to first token per backend: the hedge delay adapts to them. */
  readonly ttfts = new TtftBook();
  readonly hedgeBudget: HedgeBudget;
  private readonly lastErrors = new Map<string, NonNullable<BackendStatus['lastError']>>();
  private readonly usage = new Map<string, UsageRow>();
  private turns = 0;
  /** Tool calls handed on to the framework, by call id: the turn whose follow-up request will carry their results. */
  private readonly toolCalls = new Map<string, string>();
  /** Turns whose last request handed on a tool call: they end in the follow-up request, not before. */
  private readonly awaitingFollowUp = new Set<string>();
  /** The last turn the caller heard the hold in: a tool step's follow-up request of it does not hold again. */
  private heldTurn: string | undefined;

  constructor(readonly options: ChainOptions) {
    ensureFrameworkLogger();
    super();
    this.hedgeBudget = new HedgeBudget(options.policy.hedgeBudgetPercent);
    // The store mirrors these models' records, and writes this chain's own cooldowns back after an outage.
    options.shared?.watch({
      models: this.sharedBackends().map((b) => b.model),
      local: () => new Map(this.sharedBackends().flatMap((b): [string, Cooldown][] => (this.cooldowns.has(b.id) ? [[b.model, this.cooldowns.get(b.id) as Cooldown]] : []))),
    });
  }

  override label(): string {
    return 'holdline.ChainLLM';
  }

  override get model(): string {
    return this.options.backends.map((b) => b.id).join(' > ');
  }

  override get provider(): string {
    return 'holdline';
  }

  override chat({
    chatCtx,
    toolCtx,
    connOptions,
    parallelToolCalls,
    toolChoice,
  }: {
    chatCtx: llm.ChatContext;
    toolCtx?: llm.ToolContext;
    connOptions?: APIConnectOptions;
    parallelToolCalls?: boolean;
    toolChoice?: llm.ToolChoice;
    extraKwargs?: Record<string, unknown>;
  }): llm.LLMStream {
    const turnId = this.turnFor(chatCtx);
    // The framework's tool choice reaches every backend: after its tool-step limit it asks with 'none', and a model
    // still offered the tools could answer with a call it then ignores (a silent turn booked as answered).
    const tooling = { ...(toolChoice !== undefined && { toolChoice }), ...(parallelToolCalls !== undefined && { parallelToolCalls }) };
    return new ChainStream(
      this,
      turnId.id,
      {
        chatCtx,
        toolCtx,
        // We never throw from the stream, so the framework's retry loop never runs; keep it at zero anyway.
        connOptions: { ...(connOptions ?? { timeoutMs: 10_000, retryIntervalMs: 0 }), maxRetry: 0 } as APIConnectOptions,
      },
      tooling,
      turnId.followUp,
    );
  }

  /**
   * The caller's turn a request belongs to. A request carrying the results of tool calls this chain handed on is
   * the same turn going on (the framework asks again after running them), not a new one: it keeps the turn's id
   * and publishes no second `turn`. Any other request is a new turn; a tool turn still waiting for its follow-up
   * then never gets one (the caller spoke over the tool run and the framework dropped it), so it ends cancelled.
   */
  private turnFor(chatCtx: llm.ChatContext): { id: string; followUp: boolean } {
    const continued = toolResultsAtEnd(chatCtx)
      .map((callId) => this.toolCalls.get(callId))
      .find((id) => id !== undefined && this.awaitingFollowUp.has(id));
    if (continued) {
      this.awaitingFollowUp.delete(continued);
      return { id: continued, followUp: true };
    }
    for (const open of this.awaitingFollowUp) {
      this.options.events.publish({ type: 'policy', turnId: open, step: 'cancel', reason: 'a new turn came before the tool result was asked about' });
      this.options.events.publish({ type: 'turn_end', turnId: open, outcome: 'cancelled', source: null });
    }
    this.awaitingFollowUp.clear();
    this.toolCalls.clear();
    this.turns += 1;
    return { id: `turn-${this.turns}`, followUp: false };
  }

  /** @internal A tool call of `turnId` was handed on: its result's request continues that turn. */
  noteToolCall(callId: string, turnId: string): void {
    this.toolCalls.set(callId, turnId);
  }

  /** @internal The caller heard the hold in `turnId`. */
  noteHeld(turnId: string): void {
    this.heldTurn = turnId;
  }

  /** @internal Whether the caller already heard the hold in `turnId` (in an earlier request of it). */
  wasHeld(turnId: string): boolean {
    return this.heldTurn === turnId;
  }

  /** @internal `turnId`'s request ended handing on a tool call: the turn ends in its follow-up. */
  awaitFollowUp(turnId: string): void {
    this.awaitingFollowUp.add(turnId);
  }

  /** Each backend: ok, cooling until, last error (for `GET /llm/status`). */
  status(): BackendStatus[] {
    const now = this.options.clock.now();
    return this.options.backends.map((b) => {
      const cooldown = this.cooldowns.get(b.id);
      const cooling = cooldown && cooldown.until > now ? cooldown.until : undefined;
      const lastError = this.lastErrors.get(b.id);
      return {
        backend: b.id,
        kind: b.kind,
        model: b.model,
        ok: cooling === undefined,
        ...(cooling !== undefined && { coolingUntil: Math.round(cooling) }),
        ...(lastError && { lastError }),
      };
    });
  }

  /**
   * Forgets this process's cooldowns and errors (a rehearsal reset). Shared ones stay: they are the fleet's, and a
   * call joining a fleet rehearsal late must not wipe what the others learned (a rehearsal starts its own Redis).
   */
  reset(): void {
    this.cooldowns.clear();
    this.lastErrors.clear();
    this.ttfts.clear();
    this.hedgeBudget.reset();
    this.options.shared?.forgetPause();
  }

  /**
   * @internal Records a failure: cooldowns (which outlive the turn) and the last error. `carried`: the models the
   * failed request also carried (models[]), which failed in it too (cooldown.ts, `withCarried`).
   */
  noteFailure(backend: Backend, facts: FailureFacts, failure: Failure, now: number, carried: readonly Backend[] = []): Cooldown | undefined {
    const updates = withCarried(cooldownsAfter(backend, facts, now, this.options.backends, this.options.policy, this.cooldowns), backend, carried, this.cooldowns);
    for (const [id, cooldown] of updates) {
      // A carried model's record is replaced as a whole (its end moved, its streak kept); merging keeps the rest.
      if (carried.some((b) => b.id === id)) this.cooldowns.set(id, cooldown);
      else mergeCooldowns(this.cooldowns, [[id, cooldown]]);
    }
    const lastError = { class: failure.class, detail: failure.detail, at: Math.round(now) };
    // Whose error it is: the asked model's, the models its request carried, and a model OpenRouter said it does not
    // know (its id refused the request, whichever model was asked).
    const blamed = new Set([backend.id, ...carried.map((b) => b.id), ...this.unknownIn(failure)]);
    for (const id of blamed) this.lastErrors.set(id, lastError);
    for (const [id] of updates) this.share(id, blamed.has(id) ? lastError : undefined);
    // OpenRouter's daily :free 429 names the key's daily limit: the fleet's budget learns it (when /key could not say).
    if (failure.daily && failure.limit !== undefined && isFree(backend)) void this.options.shared?.learnFreePerDay(failure.limit, '429');
    return this.cooldowns.get(backend.id);
  }

  /** The chain backend whose id a 400 `<model> is not a valid model ID` names, if any (classify.ts). */
  private unknownIn(failure: Failure): string[] {
    const backend = openRouterBackend(this.options.backends, failure.invalidModel);
    return backend ? [backend.id] : [];
  }

  /**
   * @internal The models a request to `backend` carries after it in `models[]`: its own (OPENROUTER_SERVER_FALLBACK),
   * less any OpenRouter said it does not know while that model is out (cooldown.ts: a typo in LLM_MODEL refuses the
   * whole request it is carried in, so the models around it would never answer). The same list when nothing is left out.
   */
  fallbacksFor(backend: Backend, now: number): string[] | undefined {
    const own = backend.fallbackModels;
    if (!own) return undefined;
    const known = own.filter((model) => {
      const id = openRouterBackend(this.options.backends, model)?.id;
      const cooldown = id === undefined ? undefined : this.cooldowns.get(id);
      return !(cooldown?.cls === 'bad-request' && cooldown.until > now);
    });
    return known.length === own.length ? own : known;
  }

  /** @internal Adds one generation's tokens and cost to the model's totals (`/llm/status`). */
  noteUsage(backend: Backend, usage: TokenUsage): void {
    const row = this.usage.get(backend.id) ?? { backend: backend.id, model: backend.model, requests: 0, promptTokens: 0, completionTokens: 0, costUsd: 0 };
    row.requests += 1;
    row.promptTokens += usage.promptTokens;
    row.completionTokens += usage.completionTokens;
    row.costUsd += usage.costUsd ?? 0;
    this.usage.set(backend.id, row);
  }

  /** Tokens and cost per backend since the chain started (a rehearsal reset keeps them: they were spent). */
  usageTotals(): UsageRow[] {
    return [...this.usage.values()].map((row) => ({ ...row }));
  }

  /**
   * @internal Records a success: the failure streak is forgotten, the ttft feeds the hedge delay. The fleet heard it at
   * the answer's first token (`noteServing`).
   */
  noteSuccess(backend: Backend, ttftMs: number | undefined): void {
    clearAfterSuccess(this.cooldowns, backend.id);
    if (ttftMs !== undefined) this.ttfts.record(backend.id, ttftMs);
  }

  /**
   * @internal The answer's first token came from `backend`: the fleet hears now that the model is back (its shared
   * record cleared, which ends the waits of the calls holding on it: `waitForPass`), not when the answer ends. A spoken
   * answer streams for seconds, and a probe's answer is what every other call of the fleet holds for. A failure later
   * in the answer is booked when it comes, as before, and cools the model again for all.
   */
  noteServing(backend: Backend): void {
    if (backend.kind === 'openrouter') void this.options.shared?.clear(backend.model);
  }

  /** @internal The turn was answered after `failedIds` failed in the same pass: their guesses grow a step (cooldown.ts). */
  noteAnsweredAround(failedIds: readonly string[], now: number): void {
    for (const [id, cooldown] of cooldownsAfterAnsweredAround(failedIds, this.cooldowns, now, this.options.policy)) {
      this.cooldowns.set(id, cooldown);
      this.share(id);
    }
  }

  /** @internal A backend that shares a failed probe's fate stays out until the same end, its streak unchanged. */
  shareCooldown(backendId: string, until: number): void {
    const current = this.cooldowns.get(backendId);
    if (current) mergeCooldowns(this.cooldowns, [[backendId, { ...current, until }]]);
    this.share(backendId);
  }

  /** OpenRouter backends: their cooldowns are the key's, shared (the local server is this machine's own). */
  private sharedBackends(): Backend[] {
    return this.options.backends.filter((b) => b.kind === 'openrouter');
  }

  /** Books a backend's in-process cooldown in the shared store (not awaited: Redis runs a connection's calls in order). */
  private share(backendId: string, lastError?: NonNullable<BackendStatus['lastError']>): void {
    const backend = this.sharedBackends().find((b) => b.id === backendId);
    const cooldown = this.cooldowns.get(backendId);
    if (backend && cooldown) void this.options.shared?.fail(backend.model, cooldown, lastError);
  }

  /**
   * @internal Takes what the fleet changed since the last look (the store's mirror: memory, no round trip) into the
   * in-process cooldowns and last errors the policy reads. When Redis does not answer, the in-process state stands.
   */
  async syncShared(): Promise<void> {
    this.applyShared(await this.options.shared?.changes());
  }

  /**
   * @internal `syncShared` without an await when the store needs no Redis call for it (wall time, mirror following:
   * the usual decision). False: it needs one, and nothing was taken; await `syncShared` instead.
   */
  syncSharedAtOnce(): boolean {
    const view = this.options.shared?.changesAtOnce();
    if (view === false) return false;
    this.applyShared(view);
    return true;
  }

  private applyShared(view: Map<string, SharedRecord | undefined> | undefined): void {
    if (!view) return;
    for (const backend of this.sharedBackends()) {
      if (!view.has(backend.model)) continue;
      const record = view.get(backend.model);
      if (!record) {
        this.cooldowns.delete(backend.id);
        continue;
      }
      this.cooldowns.set(backend.id, record.cooldown);
      if (record.lastError) this.lastErrors.set(backend.id, record.lastError);
    }
  }

  /**
   * @internal The wait before the next pass: `ms` of scenario time, or less when the fleet's verdict comes first. With a
   * shared store on wall time, a success elsewhere in the fleet on a model this chain has cooling (another call's probe
   * answered, and the record is gone) ends the wait at once: the model is back, and the rest of a backoff or a probe's
   * recheck was only this caller's silence (bench:fleet's storm: the callers that waited on another call's probe heard
   * their answers up to a second after it, at their next look). A verdict that the model failed again changes nothing:
   * the wait runs on, and the next pass reads the new end. Nor does a cleared record the chain cannot take (a write of
   * its own to that model still on its way, Redis not answering): the wait goes on to its planned end rather than
   * running a pass that skips everything and doubles the backoff. A wait on the key's `:free` budget is not ended
   * by a success either (it says nothing of the budget). Without a shared store, or on a clock that moves only when
   * told (`hearsVerdicts`), it is the plain sleep.
   */
  waitForPass(ms: number, signal: AbortSignal): Promise<void> {
    const { clock, shared } = this.options;
    const now = clock.now();
    const cooling = this.sharedBackends().filter((b) => {
      const until = this.cooldowns.get(b.id)?.until ?? 0;
      return until > now && this.budgetWaits.get(b.id) !== until;
    });
    if (!shared?.hearsVerdicts || cooling.length === 0) return clock.sleep(ms, signal);
    return this.waitForVerdict(now + ms, cooling, signal);
  }

  private async waitForVerdict(until: number, cooling: readonly Backend[], signal: AbortSignal): Promise<void> {
    const { clock } = this.options;
    const models = new Set(cooling.map((b) => b.model));
    while (await this.sleepOrVerdict(until - clock.now(), models, signal)) {
      await this.syncShared();
      const now = clock.now();
      if (cooling.some((b) => !((this.cooldowns.get(b.id)?.until ?? 0) > now))) return;
    }
  }

  /** Sleeps `ms`: false when it ran out, true when the fleet cleared one of `models` first. Rejects when the turn ends. */
  private sleepOrVerdict(ms: number, models: ReadonlySet<string>, signal: AbortSignal): Promise<boolean> {
    const { clock, shared } = this.options;
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const stop = () => {
        cancel();
        stopListening();
        signal.removeEventListener('abort', onAbort);
      };
      const onAbort = () => {
        stop();
        reject(signal.reason);
      };
      const cancel = clock.schedule(() => {
        stop();
        resolve(false);
      }, ms);
      const stopListening = shared?.onCleared((model) => {
        if (!models.has(model)) return;
        stop();
        resolve(true);
      }) ?? (() => {});
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * @internal What the fleet says before this call asks `backend`, in one round trip when it has a say (shared-cooldowns.ts
   * `book`): undefined (ask it; `slot`: the `:free` slot it took), or the scenario ms until which it waits (another
   * call's cooldown or probe, or the key's `:free` budget is spent), booked as its cooldown.
   */
  async sharedHold(backend: Backend, now: number): Promise<{ until?: number; slot?: string; probing?: true }> {
    const shared = this.options.shared;
    if (!shared || !this.booksBefore(backend)) return {};
    const cooldown = this.cooldowns.get(backend.id);
    const free = isFree(backend);
    // The lease covers the probe's verdict: a failure comes by the first-token deadline at the latest.
    const leaseEnd = now + Math.max(backend.deadlines.headersMs, backend.deadlines.firstTokenMs);
    // Before its end: a pass that found every backend cooling probes a guessed one (policy.ts probeInsteadOfHolding).
    const early = cooldown !== undefined && cooldown.until > now;
    const booking = await shared.book(backend.model, { leaseEnd, free, early });
    if (booking.granted) return booking.slot === undefined ? {} : { slot: booking.slot };
    if (booking.why === 'minute' || booking.why === 'day') {
      this.budgetSpent(booking.until, now);
    } else {
      // Another call's cooldown this process had not heard of yet (as the record says: a guessed end stays a guess, the
      // streak is the fleet's when longer), or its probe: cooling until the lease's end, a known end (nobody probes
      // instead of holding on it). An early probe refused is a known end too, whatever the record says: another call
      // probes, or the end was told; taken as a guess, this pass would pick the same probe again, without end.
      const streak = Math.max(cooldown?.streak ?? 0, booking.streak ?? 0);
      this.cooldowns.set(backend.id, {
        ...(cooldown ?? { since: now }),
        cls: booking.cls,
        until: booking.until,
        guessed: booking.guessed === true && !early,
        ...(streak > 0 && { streak }),
      });
    }
    return { until: booking.until, ...(booking.why === 'probing' && { probing: true as const }) };
  }

  /**
   * @internal Does asking `backend` now take a booking (`sharedHold`'s round trip)? Not when it has no cooldown (no
   * probe lease to take) and spends no `:free` budget: then a decision asks it without awaiting anything. A cooldown
   * that ended, or one still running that the decision probes early (every backend cooling: the fleet's early probe is
   * one call's, as the probe at the end is), takes the lease.
   */
  booksBefore(backend: Backend): boolean {
    if (!this.options.shared || backend.kind !== 'openrouter') return false;
    return isFree(backend) || this.cooldowns.has(backend.id);
  }

  /**
   * The key's budget for `:free` models: a request OpenRouter is sure to refuse is not sent. An empty budget is a
   * rate-limit cooldown until the next slot for every `:free` model (the budget is the key's, across them), shared,
   * so every call skips them until then and holds as in any storm; a budget wait is no failure (the streak stays).
   */
  private budgetSpent(until: number, now: number): void {
    for (const free of this.sharedBackends().filter(isFree)) {
      const streak = this.cooldowns.get(free.id)?.streak;
      mergeCooldowns(this.cooldowns, [[free.id, { until, cls: 'rate-limit', ...(streak !== undefined && { streak }), since: now }]]);
      this.budgetWaits.set(free.id, until);
      this.share(free.id);
    }
  }

  /** The end of the last `:free` budget wait booked per backend: a success elsewhere does not end it (`waitForPass`). */
  private readonly budgetWaits = new Map<string, number>();

  /**
   * `:free` slots booked for hedges that may yet be dropped, by pick (one per race, see `hedged`): keyed by the
   * backend, a cancelled turn's late pick and the next turn's hedge on the same model would share one entry, and the
   * late drop would give back the slot of a request that was sent.
   */
  private readonly hedgeSlots = new WeakMap<object, string>();

  /** @internal A hedge allowed (budget, lease, :free slot) but never sent: its token, its lease and its slot go back. */
  hedgeDropped(target: Backend, pick: object = target): void {
    this.hedgeBudget.refund();
    const slot = this.hedgeSlots.get(pick);
    this.hedgeSlots.delete(pick);
    if (target.kind === 'openrouter') void this.options.shared?.giveBack(target.model, slot);
  }

  /**
   * @internal A request to `backend` ended with no verdict (cancelled: outrun by a hedge, or the caller moved on): a probe
   * lease it held goes back, so another call may probe at once rather than wait out the lease (up to the first-token
   * deadline). Its `:free` slot stays spent: the request was sent. Only when Redis granted this call the lease.
   */
  leaseUnused(backend: Backend): void {
    const shared = this.options.shared;
    if (backend.kind === 'openrouter' && shared?.holdsLease(backend.model)) void shared.giveBack(backend.model);
  }

  /** @internal The hedge on `target` was sent: its :free slot is spent for good. */
  hedgeSent(target: Backend, pick: object = target): void {
    this.hedgeSlots.delete(pick);
  }

  /**
   * @internal May the late request be hedged on `target`? A hedge is a request like any other: it takes the hedge
   * budget, then the fleet's say (no hedge to a model another call is probing, none the key's `:free` budget forbids).
   * A hedge the fleet refuses gives its hedge token back and is not sent; the refusal is booked as the target's cooldown.
   */
  async allowSharedHedge(target: Backend, now: number, pick: object = target): Promise<boolean> {
    if (!this.hedgeBudget.trySpend() || !this.options.shared) return false;
    const started = performance.now();
    const { until, slot } = await this.sharedHold(target, now);
    this.options.shared.noteDecision(performance.now() - started);
    if (slot !== undefined) this.hedgeSlots.set(pick, slot);
    if (until === undefined) return true;
    this.hedgeBudget.refund();
    return false;
  }
}

class ChainStream extends llm.LLMStream {
  /** True once any of an answer was passed on: the hold timer stays quiet after that. */
  private spoke = false;

  constructor(
    private readonly chain: ChainLLM,
    private readonly turnId: string,
    params: { chatCtx: llm.ChatContext; toolCtx?: llm.ToolContext; connOptions: APIConnectOptions },
    private readonly tooling: Pick<AttemptRequest, 'toolChoice' | 'parallelToolCalls'> = {},
    /** True for the request carrying tool results: the turn was announced by the request that made the call. */
    private readonly followUp = false,
  ) {
    super(chain, params);
  }

  protected override async run(): Promise<void> {
    const { events } = this.chain.options;
    const signal = this.abortController.signal;
    if (!this.followUp) events.publish({ type: 'turn', turnId: this.turnId, text: lastUserText(this.chatCtx) });
    try {
      await this.episode(signal);
    } catch (error) {
      if (signal.aborted) {
        this.cancelled();
        return;
      }
      // A bug of ours must not silence the turn either.
      events.publish({ type: 'policy', turnId: this.turnId, step: 'apology', reason: `internal error: ${(error as Error).message}` });
      this.say('apology', this.chain.options.apologyMessage);
      events.publish({ type: 'turn_end', turnId: this.turnId, outcome: 'apology', source: 'apology' });
    }
  }

  private async episode(signal: AbortSignal): Promise<void> {
    const { clock } = this.chain.options;
    const episode: Episode = newEpisode(clock.now());
    // One hold per caller turn: a tool step's follow-up request does not say it again.
    if (this.followUp && this.chain.wasHeld(this.turnId)) episode.held = true;
    // Never a long silence: whatever the backends do, the caller hears the hold once no answer has started
    // by HOLD_AFTER_MS, while the chain keeps trying.
    const holdAt = holdDueAt(episode, this.chain.options.policy);
    const cancelHold =
      holdAt === undefined
        ? () => {}
        : clock.schedule(() => {
            if (episode.held || this.spoke || signal.aborted) return;
            this.hold(episode, `no answer ${this.chain.options.policy.holdAfterMs} ms after the turn`);
          }, holdAt - clock.now());
    try {
      await this.passes(episode, signal);
    } finally {
      cancelHold();
    }
  }

  private hold(episode: Episode, reason: string): void {
    episode.held = true;
    this.chain.noteHeld(this.turnId);
    this.chain.options.events.publish({ type: 'policy', turnId: this.turnId, step: 'hold', reason });
    this.say('hold', this.chain.options.holdMessage);
  }

  private async passes(episode: Episode, signal: AbortSignal): Promise<void> {
    const { clock, events, backends, policy } = this.chain.options;
    for (;;) {
      if (signal.aborted) return this.cancelled();
      // Only with a shared store: without one, no await is added (the turn's timing is exactly as before).
      const shared = this.chain.options.shared;
      // What this decision waits on Redis (wall ms): what the fleet changed (memory, from the store's mirror, without
      // an await when it needs no round trip) and the booking an attempt makes (a probe lease, a :free slot: one round
      // trip, when it has one to make). The policy's own work between the two is no wait on Redis: not counted.
      let waited = 0;
      if (shared) {
        const started = performance.now();
        if (!this.chain.syncSharedAtOnce()) await this.chain.syncShared();
        waited = performance.now() - started;
      }
      const now = clock.now();
      const decision = decide({ episode, cooldowns: this.chain.cooldowns, backends, now, policy });
      if (decision.kind !== 'attempt') shared?.noteDecision(waited);
      switch (decision.kind) {
        case 'skip':
          this.skip(episode, decision.backend, decision.pass, now, decision.until);
          if (decision.shared) this.chain.shareCooldown(decision.backend.id, decision.until);
          break;
        case 'attempt': {
          const booked = performance.now();
          const books = this.chain.booksBefore(decision.backend);
          const { until: notBefore, slot, probing } = books ? await this.chain.sharedHold(decision.backend, now) : {};
          shared?.noteDecision(waited + performance.now() - booked);
          if (notBefore !== undefined) {
            this.skip(episode, decision.backend, decision.pass, now, notBefore, probing);
            break;
          }
          // The caller moved on while Redis answered: nothing is sent, and what the booking took goes back.
          if (signal.aborted) {
            if (books) void shared?.giveBack(decision.backend.model, slot);
            return this.cancelled();
          }
          const lanes = await this.hedged(decision.backend, episode, now, signal);
          if (signal.aborted) {
            // What the requests said is still the fleet's (a 429's reset, a stall's cooldown); a lease no verdict ends goes back.
            for (const lane of lanes) {
              if (lane.won) continue;
              if (!lane.result.cancelled || (!lane.hedge && lanes.some((l) => l.won))) this.record(lane, episode, decision.pass, decision.probe === true, lanes);
              else this.chain.leaseUnused(lane.backend);
            }
            return this.cancelled();
          }
          // Failures and the outrun request first (they ended first), the one heard last: the policy reads the last.
          for (const lane of [...lanes.filter((l) => !l.won), ...lanes.filter((l) => l.won)]) {
            this.record(lane, episode, decision.pass, decision.probe === true, lanes);
          }
          break;
        }
        case 'hold':
          this.hold(episode, 'every backend failed this pass');
          break;
        case 'wait':
          events.publish({ type: 'policy', turnId: this.turnId, step: 'wait', until: Math.round(decision.until), reason: decision.reason });
          await this.chain.waitForPass(Math.max(0, decision.until - now), signal);
          episode.waits += 1;
          break;
        case 'apology':
          events.publish({ type: 'policy', turnId: this.turnId, step: 'apology', reason: decision.reason });
          this.say('apology', this.chain.options.apologyMessage);
          events.publish({ type: 'turn_end', turnId: this.turnId, outcome: 'apology', source: 'apology' });
          return;
        case 'done': {
          const last = episode.attempts.at(-1);
          // A tool call was handed on: the framework runs it and asks again, and that request ends the turn.
          if (last?.toolCallSent) return this.chain.awaitFollowUp(this.turnId);
          const answered = last?.backend as Source;
          if (last) this.chain.noteAnsweredAround(episode.attempts.filter((a) => a.pass === last.pass && a.failure && a.backend !== last.backend).map((a) => a.backend), clock.now());
          events.publish({ type: 'turn_end', turnId: this.turnId, outcome: 'answered', source: answered });
          return;
        }
      }
    }
  }

  private skip(episode: Episode, backend: Backend, pass: number, now: number, until: number, probing?: true): void {
    const cls = this.chain.cooldowns.get(backend.id)?.cls;
    episode.skips.push({ backend: backend.id, pass, at: now, until, ...(cls && { cls }), ...(probing && { probing }) });
    this.chain.options.events.publish({ type: 'skip', turnId: this.turnId, pass, backend: backend.kind, model: backend.model, cooldownUntil: Math.round(until) });
  }

  /** Asks `backend`, and hedges on the next backend of the pass if it is late (race.ts). */
  private hedged(backend: Backend, episode: Episode, startedAt: number, signal: AbortSignal): Promise<Lane[]> {
    const chain = this.chain;
    const { clock, backends, policy, runAttempt, events } = chain.options;
    chain.hedgeBudget.earn();
    const afterMs = policy.hedgeBudgetPercent > 0 ? hedgeDelayMs(chain.ttfts, backend.id, policy) : undefined;
    // This race's own hedge: what it booked is given back or kept by this race alone.
    const pick = {};
    /** The winner's first chunk was passed on (the fleet hears the model is back once). */
    let serving = false;
    return race({
      first: backend,
      clock,
      signal,
      hedgeAfterMs: afterMs,
      pickHedge: () => {
        const now = clock.now();
        const target = hedgeTarget({ episode, cooldowns: chain.cooldowns, backends, now, policy }, backend);
        if (!target) return undefined;
        const allowed = (yes: boolean) => (yes ? target : undefined);
        // Without a shared store the pick stays synchronous: the hedge starts at its instant exactly, as before.
        return chain.options.shared ? chain.allowSharedHedge(target, now, pick).then(allowed) : allowed(chain.hedgeBudget.trySpend());
      },
      onHedge: (target) => {
        chain.hedgeSent(target, pick);
        events.publish({
          type: 'policy',
          turnId: this.turnId,
          step: 'hedge',
          reason: `no first token from ${backend.id} after ${Math.round(clock.now() - startedAt)} ms: asking ${target.id} too`,
        });
      },
      // Picked over the network and the race closed meanwhile: never sent, so the hedge token, the fleet's probe lease
      // and the :free slot it booked go back (OpenRouter never counted a request it never got).
      onHedgeDropped: (target) => chain.hedgeDropped(target, pick),
      run: async (b, laneSignal, onChunk) => {
        // What this request carries in models[] is fixed when it is sent: the booking reads it back (`record`).
        const fallbackModels = chain.fallbacksFor(b, clock.now());
        const changed = fallbackModels !== b.fallbackModels;
        const result = await runAttempt({
          backend: b,
          chatCtx: this.chatCtx,
          ...(this.toolCtx && { toolCtx: this.toolCtx }),
          ...this.tooling,
          ...(changed && { fallbackModels: fallbackModels ?? [] }),
          clock,
          signal: laneSignal,
          onChunk,
        });
        return changed ? { ...result, carried: fallbackModels ?? [] } : result;
      },
      forward: (chunk, b, servedBy) => {
        const served = servedBackend(backends, b, servedBy);
        if (!serving) chain.noteServing(served);
        serving = true;
        this.forward(chunk, served.id);
      },
    });
  }

  /**
   * Books one settled request: cooldowns, ttfts, the episode (what the policy reads) and `attempt` events. A
   * `models[]` request is booked per model it reached: an answer to the model the response names (the ones
   * OpenRouter fell back from before it failed), and an error status after OpenRouter tried them all to every
   * model it carried, so none of them is asked again on its own to fail the same way.
   */
  private record(lane: Lane, episode: Episode, pass: number, probe: boolean, lanes: readonly Lane[]): void {
    const { backends } = this.chain.options;
    const { backend: asked, result } = lane;
    const winner = lanes.find((l) => l.won);
    const outrun = result.cancelled && winner !== undefined && !lane.won;
    // The policy's own choice, outrun by the hedge without a token: slower than its hedge delay plus the
    // winner's ttft. It cools down like a timeout, so the next turns do not wait for it (nor hedge again).
    const failure: Failure | undefined = outrun && !lane.hedge
      ? { class: 'timeout', detail: `no first token in ${Math.round(lane.end - lane.at)} ms; ${winner.backend.id} answered first` }
      : result.failure;
    // An outrun hedge has no verdict: nothing is booked for it, and a probe lease it took goes back.
    if (outrun && lane.hedge) this.chain.leaseUnused(asked);
    const served = servedBackend(backends, asked, result.servedBy);
    const base = { lane, episode, pass, probe: probe && !lane.hedge };
    if (!result.cancelled) {
      for (const skipped of fellBackFrom(backends, asked, served, result.carried)) {
        const fellBack: Failure = { class: 'unavailable', detail: `OpenRouter fell back from it to ${served.model} (models[])` };
        this.book({ ...base, backend: skipped, result: { cancelled: false, textSent: false }, failure: fellBack, latencyMs: result.headersMs });
      }
    }
    const wholeRequestFailed = failure !== undefined && !result.textSent && (failure.status ?? 0) >= 400 && failure.class !== 'account' && failure.class !== 'bad-request';
    const booked = wholeRequestFailed ? carriedBackends(backends, asked, result.carried) : [served];
    // The models it carried after `asked` are booked with `asked`'s failure (one failure: cooldown.ts).
    const carried = booked.slice(1);
    for (const backend of booked) {
      const also = failure && backend !== asked && backend !== served ? { ...failure, detail: `tried in the same request (models[]); ${failure.detail}` } : failure;
      const first = backend === booked[0];
      this.book({ ...base, backend, result, failure: also, probe: base.probe && backend === asked, ...(first ? { carried } : { cooledWithFirst: true }) });
    }
  }

  /** Books one backend's part of a settled request. `latencyMs` when not the request's own (a models[] fallback). */
  private book({ lane, episode, pass, probe, backend, result, failure, latencyMs, carried, cooledWithFirst }: Booking): void {
    const { clock, events } = this.chain.options;
    const facts = failure && toFacts(failure, clock);
    const cooldown =
      facts && failure ? (cooledWithFirst ? this.chain.cooldowns.get(backend.id) : this.chain.noteFailure(backend, facts, failure, lane.end, carried)) : undefined;
    if (!result.cancelled && !result.failure && !failure) this.chain.noteSuccess(backend, result.ttftMs);
    if (!result.cancelled) {
      episode.attempts.push({
        backend: backend.id,
        pass,
        at: lane.at,
        end: lane.end,
        textSent: result.textSent,
        ...(result.toolCallSent && { toolCallSent: true }),
        ...(facts && { failure: facts }),
        ...(probe && { probe }),
      });
    }
    const status = result.failure?.status ?? result.status;
    // The generation's cost belongs to the model that produced it (with models[], the one the response names).
    const usage = result.usage && backend === servedBackend(this.chain.options.backends, lane.backend, result.servedBy) ? result.usage : undefined;
    events.publish({
      type: 'attempt',
      turnId: this.turnId,
      pass,
      backend: backend.kind,
      model: backend.model,
      outcome: result.cancelled ? 'cancelled' : (failure?.class ?? 'ok'),
      ...(lane.hedge && { hedge: true }),
      ...(status !== undefined && { status }),
      ...(result.failure?.code !== undefined && { code: result.failure.code }),
      ...(failure && { detail: failure.detail }),
      latencyMs: Math.round(latencyMs ?? lane.end - lane.at),
      ...(result.ttftMs !== undefined && { ttftMs: Math.round(result.ttftMs) }),
      ...(cooldown && cooldown.until > lane.end && { cooldownUntil: Math.round(cooldown.until) }),
      ...(usage && { usage }),
    });
    if (usage) this.chain.noteUsage(backend, usage);
  }

  private cancelled(): void {
    const { events } = this.chain.options;
    events.publish({ type: 'policy', turnId: this.turnId, step: 'cancel', reason: 'the turn was interrupted' });
    events.publish({ type: 'turn_end', turnId: this.turnId, outcome: 'cancelled', source: null });
  }

  /** Passes a backend's chunk on, tagged with its source. */
  private forward(chunk: llm.ChatChunk, source: Source): void {
    if (this.abortController.signal.aborted) return;
    this.spoke = true;
    for (const call of chunk.delta?.toolCalls ?? []) this.chain.noteToolCall(call.callId, this.turnId);
    const sourced: SourcedChunk = { ...chunk, source, turnId: this.turnId };
    this.queue.put(sourced);
  }

  /** Speaks one of our own messages as its own chunk. */
  private say(source: 'hold' | 'apology', text: string): void {
    if (this.abortController.signal.aborted) return;
    const chunk: SourcedChunk = { id: `${this.turnId}-${source}`, delta: { role: 'assistant', content: text }, source, turnId: this.turnId };
    this.queue.put(chunk);
  }
}

interface Booking {
  lane: Lane;
  episode: Episode;
  pass: number;
  probe: boolean;
  backend: Backend;
  result: AttemptResult;
  failure: Failure | undefined;
  latencyMs?: number | undefined;
  /** The models the failed request carried after this one (models[]): their cooldowns are set with this one's. */
  carried?: readonly Backend[];
  /** A model a failed request carried: its cooldown was set with the first model's (`carried`). */
  cooledWithFirst?: true;
}

/** The call ids of the tool results that end the context: present when the request is a tool step's follow-up. */
function toolResultsAtEnd(chatCtx: llm.ChatContext): string[] {
  const ids: string[] = [];
  for (let i = chatCtx.items.length - 1; i >= 0; i--) {
    const item = chatCtx.items[i];
    if (!item || (item.type === 'message' && item.role === 'user')) break;
    if (item.type === 'function_call_output') ids.push(item.callId);
  }
  return ids;
}

function toFacts(failure: Failure, clock: Clock): FailureFacts {
  return {
    cls: failure.class,
    ...(failure.status !== undefined && { status: failure.status }),
    ...(failure.retryAfterMs !== undefined && { retryAfterMs: failure.retryAfterMs }),
    ...(failure.resetAtEpochMs !== undefined && { resetAt: clock.fromEpochMs(failure.resetAtEpochMs) }),
    ...(failure.daily && { daily: true }),
    ...(failure.keyWide && { keyWide: true }),
    ...(failure.refused !== undefined && { refused: failure.refused }),
    ...(failure.invalidModel !== undefined && { invalidModel: failure.invalidModel }),
  };
}

function lastUserText(chatCtx: llm.ChatContext): string {
  for (let i = chatCtx.items.length - 1; i >= 0; i--) {
    const item = chatCtx.items[i];
    if (item && item.type === 'message' && item.role === 'user') return item.textContent ?? '';
  }
  return '';
}
