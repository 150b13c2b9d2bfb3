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
import type { Source } from '../../contract/events.js';
import type { PolicyConfig } from '../config.js';
import { ensureFrameworkLogger } from '../framework-logger.js';
import type { AttemptRunner } from './attempt.js';
import type { Backend } from './backends.js';
import type { Failure } from './classify.js';
import { cooldownsAfter, mergeCooldowns, type Cooldown, type FailureFacts } from './cooldown.js';
import type { AgentEvents } from './events.js';
import { decide, newEpisode, type Episode } from './policy.js';

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

export interface ChainOptions {
  backends: Backend[];
  policy: PolicyConfig;
  holdMessage: string;
  apologyMessage: string;
  clock: Clock;
  events: AgentEvents;
  runAttempt: AttemptRunner;
}

export class ChainLLM extends llm.LLM {
  readonly cooldowns = new Map<string, Cooldown>();
  private readonly lastErrors = new Map<string, NonNullable<BackendStatus['lastError']>>();
  private turns = 0;

  constructor(readonly options: ChainOptions) {
    ensureFrameworkLogger();
    super();
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
  }: {
    chatCtx: llm.ChatContext;
    toolCtx?: llm.ToolContext;
    connOptions?: APIConnectOptions;
    parallelToolCalls?: boolean;
    toolChoice?: llm.ToolChoice;
    extraKwargs?: Record<string, unknown>;
  }): llm.LLMStream {
    this.turns += 1;
    return new ChainStream(this, `turn-${this.turns}`, {
      chatCtx,
      toolCtx,
      // We never throw from the stream, so the framework's retry loop never runs; keep it at zero anyway.
      connOptions: { ...(connOptions ?? { timeoutMs: 10_000, retryIntervalMs: 0 }), maxRetry: 0 } as APIConnectOptions,
    });
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

  /** Forgets cooldowns and errors (a rehearsal reset). */
  reset(): void {
    this.cooldowns.clear();
    this.lastErrors.clear();
  }

  /** @internal Records a failure: cooldowns (which outlive the turn) and the last error. */
  noteFailure(backend: Backend, facts: FailureFacts, failure: Failure, now: number): Cooldown | undefined {
    mergeCooldowns(this.cooldowns, cooldownsAfter(backend, facts, now, this.options.backends, this.options.policy));
    this.lastErrors.set(backend.id, { class: failure.class, detail: failure.detail, at: Math.round(now) });
    return this.cooldowns.get(backend.id);
  }
}

class ChainStream extends llm.LLMStream {
  constructor(
    private readonly chain: ChainLLM,
    private readonly turnId: string,
    params: { chatCtx: llm.ChatContext; toolCtx?: llm.ToolContext; connOptions: APIConnectOptions },
  ) {
    super(chain, params);
  }

  protected override async run(): Promise<void> {
    const { events } = this.chain.options;
    const signal = this.abortController.signal;
    events.publish({ type: 'turn', turnId: this.turnId, text: lastUserText(this.chatCtx) });
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
    const { clock, events, backends, policy, runAttempt } = this.chain.options;
    const episode: Episode = newEpisode(clock.now());
    for (;;) {
      if (signal.aborted) return this.cancelled();
      const now = clock.now();
      const decision = decide({ episode, cooldowns: this.chain.cooldowns, backends, now, policy });
      switch (decision.kind) {
        case 'skip':
          episode.skips.push({ backend: decision.backend.id, pass: decision.pass, at: now, until: decision.until });
          events.publish({
            type: 'skip',
            turnId: this.turnId,
            pass: decision.pass,
            backend: decision.backend.kind,
            model: decision.backend.model,
            cooldownUntil: Math.round(decision.until),
          });
          break;
        case 'attempt': {
          const { backend, pass } = decision;
          const result = await runAttempt({
            backend,
            chatCtx: this.chatCtx,
            ...(this.toolCtx && { toolCtx: this.toolCtx }),
            clock,
            signal,
            onChunk: (chunk) => this.forward(chunk, backend.id),
          });
          const end = clock.now();
          if (result.cancelled) return this.cancelled();
          const status = result.failure?.status ?? result.status;
          const facts = result.failure && toFacts(result.failure, clock);
          const cooldown = facts && result.failure ? this.chain.noteFailure(backend, facts, result.failure, end) : undefined;
          episode.attempts.push({
            backend: backend.id,
            pass,
            at: now,
            end,
            textSent: result.textSent,
            ...(result.toolCallSent && { toolCallSent: true }),
            ...(facts && { failure: facts }),
          });
          events.publish({
            type: 'attempt',
            turnId: this.turnId,
            pass,
            backend: backend.kind,
            model: backend.model,
            outcome: result.failure?.class ?? 'ok',
            ...(status !== undefined && { status }),
            ...(result.failure?.code !== undefined && { code: result.failure.code }),
            ...(result.failure && { detail: result.failure.detail }),
            latencyMs: Math.round(end - now),
            ...(result.ttftMs !== undefined && { ttftMs: Math.round(result.ttftMs) }),
            ...(cooldown && cooldown.until > end && { cooldownUntil: Math.round(cooldown.until) }),
          });
          break;
        }
        case 'hold':
          episode.held = true;
          events.publish({ type: 'policy', turnId: this.turnId, step: 'hold', reason: 'every backend failed this pass' });
          this.say('hold', this.chain.options.holdMessage);
          break;
        case 'wait':
          events.publish({ type: 'policy', turnId: this.turnId, step: 'wait', until: Math.round(decision.until), reason: decision.reason });
          await clock.sleep(Math.max(0, decision.until - now), signal);
          episode.waits += 1;
          break;
        case 'apology':
          events.publish({ type: 'policy', turnId: this.turnId, step: 'apology', reason: decision.reason });
          this.say('apology', this.chain.options.apologyMessage);
          events.publish({ type: 'turn_end', turnId: this.turnId, outcome: 'apology', source: 'apology' });
          return;
        case 'done': {
          const answered = episode.attempts.at(-1)?.backend as Source;
          events.publish({ type: 'turn_end', turnId: this.turnId, outcome: 'answered', source: answered });
          return;
        }
      }
    }
  }

  private cancelled(): void {
    const { events } = this.chain.options;
    events.publish({ type: 'policy', turnId: this.turnId, step: 'cancel', reason: 'the turn was interrupted' });
    events.publish({ type: 'turn_end', turnId: this.turnId, outcome: 'cancelled', source: null });
  }

  /** Passes a backend's chunk on, tagged with its source. */
  private forward(chunk: llm.ChatChunk, source: Source): void {
    if (this.abortController.signal.aborted) return;
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

function toFacts(failure: Failure, clock: Clock): FailureFacts {
  return {
    cls: failure.class,
    ...(failure.status !== undefined && { status: failure.status }),
    ...(failure.retryAfterMs !== undefined && { retryAfterMs: failure.retryAfterMs }),
    ...(failure.resetAtEpochMs !== undefined && { resetAt: clock.fromEpochMs(failure.resetAtEpochMs) }),
    ...(failure.daily && { daily: true }),
  };
}

function lastUserText(chatCtx: llm.ChatContext): string {
  for (let i = chatCtx.items.length - 1; i >= 0; i--) {
    const item = chatCtx.items[i];
    if (item && item.type === 'message' && item.role === 'user') return item.textContent ?? '';
  }
  return '';
}
