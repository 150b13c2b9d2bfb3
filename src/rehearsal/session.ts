/**
 * The same agent, chain and policy as production, in a room-less AgentSession: manual turn detection, no STT
 * or VAD (turns arrive as text), the recording TTS and the speaker in place of the room's audio.
 */
import { voice, type llm } from '@livekit/agents';
import type { Clock } from '../../contract/clock.js';
import type { AgentEvents } from '../chain/events.js';
import { ensureFrameworkLogger } from '../framework-logger.js';
import { HoldlineAgent } from '../voice/agent.js';
import { describeSessionError } from '../voice/session-errors.js';
import { RecordingTTS } from './recording-tts.js';
import { Speaker } from './speaker.js';

export interface RehearsalSession {
  /** A user turn ends now with this text: whatever the agent was doing for the last turn is cancelled. */
  userTurn(text: string): Promise<void>;
  /** Stops whatever the agent is saying or preparing. */
  interrupt(): Promise<void>;
  close(): Promise<void>;
}

export async function startRehearsalSession(opts: {
  /** holdline's chain; benchmarks pass another LLM (e.g. LiveKit's FallbackAdapter) to compare. */
  llm?: llm.LLM;
  /**
   * A user's own agent (agent-module.ts) with its own LLM, in place of holdline's agent and `llm`. When that LLM
   * is not holdline's chain, nothing else says when a turn starts and ends: the session does (see TurnTracker).
   */
  agent?: { agent: voice.Agent; trackTurns: boolean };
  /** The session's own LLM retry settings; only a contender that throws ever uses them. */
  llmConnOptions?: { maxRetry?: number; retryIntervalMs?: number; timeoutMs?: number };
  clock: Clock;
  events: AgentEvents;
  instructions: string;
  /** Tools the agent offers the model (the rehearsal's demo tool), by name. */
  tools?: llm.ToolContextLike;
  /** Errors the session reports (an STT, TTS or contender LLM failing); holdline's chain never reports one. */
  onError?: (error: { type: string; message: string; recoverable: boolean }) => void;
}): Promise<RehearsalSession> {
  ensureFrameworkLogger();
  const { clock, events } = opts;
  const tracker = opts.agent?.trackTurns ? new TurnTracker(events) : undefined;
  const session = new voice.AgentSession({
    ...(opts.llm && { llm: opts.llm }),
    ...(opts.llmConnOptions && { connOptions: { llmConnOptions: opts.llmConnOptions } }),
    tts: new RecordingTTS(),
    vad: null,
    turnHandling: { turnDetection: 'manual' },
  } as ConstructorParameters<typeof voice.AgentSession>[0]);
  session.output.audio = new Speaker(clock, events, () => tracker?.current ?? null);
  const E = voice.AgentSessionEventTypes;
  session.on(E.AgentStateChanged, (ev) => {
    if (ev.newState === 'listening' && ev.oldState !== 'listening') tracker?.replyOver();
    events.publish({ type: 'state', from: ev.oldState, to: ev.newState });
  });
  session.on(E.Close, (ev) => events.publish({ type: 'close', reason: String(ev.reason) }));
  // The session re-emits component errors as 'error'; with no listener Node throws, which cuts the framework's
  // own retries short. Listen, and pass them on.
  session.on(E.Error, (ev) => opts.onError?.(describeSessionError(ev.error)));
  await session.start({ agent: opts.agent?.agent ?? new HoldlineAgent({ instructions: opts.instructions, ...(opts.tools && { tools: opts.tools }) }) });

  return {
    async userTurn(text: string) {
      tracker?.cancel();
      await session.interrupt().await;
      tracker?.start(text);
      session.generateReply({ userInput: text });
    },
    async interrupt() {
      await session.interrupt().await;
    },
    async close() {
      await session.close();
    },
  };
}


/**
 * Turns for an agent whose LLM is not holdline's chain (which publishes its own): a turn starts when the caller
 * speaks and ends when the agent is back to listening, answered if anything was heard for it and silent if
 * not (what LiveKit's FallbackAdapter does once every LLM failed), or cancelled by the next turn.
 */
class TurnTracker {
  private count = 0;
  private open: { turnId: string; heard: boolean } | undefined;

  constructor(private readonly events: AgentEvents) {
    events.subscribe((e) => {
      if (e.type === 'utterance' && this.open && e.turnId === this.open.turnId) this.open.heard = true;
    });
  }

  get current(): string | null {
    return this.open?.turnId ?? null;
  }

  start(text: string): void {
    this.open = { turnId: `turn-${++this.count}`, heard: false };
    this.events.publish({ type: 'turn', turnId: this.open.turnId, text });
  }

  replyOver(): void {
    if (this.open) this.end(this.open.heard ? 'answered' : 'silent');
  }

  cancel(): void {
    if (this.open) this.end('cancelled');
  }

  private end(outcome: 'answered' | 'silent' | 'cancelled'): void {
    const { turnId } = this.open!;
    this.open = undefined;
    this.events.publish({ type: 'turn_end', turnId, outcome, source: null });
  }
}
