/**
 * The voice agent. Two small overrides make the chain's output speak right:
 *
 * - `llmNode` ends a spoken segment whenever the source changes (FlushSentinel). Without it the hold
 *   "Hang on a sec." would sit in the TTS sentence tokenizer (it buffers short sentences) until the answer
 *   arrived seconds later; with it the hold plays at once, as its own utterance, and the answer follows.
 * - `ttsNode` tags each segment's audio frames with who said it (and the text the TTS received), so an audio
 *   output can report each utterance with its true playback times and source.
 *
 * Both work with any TTS and any audio output; the rehearsal speaker reads the tags.
 */
import { FlushSentinel, llm, voice } from '@livekit/agents';
import type { AudioFrame } from '@livekit/rtc-node';
import { ReadableStream, TransformStream } from 'node:stream/web';
import type { Source } from '../../contract/events.js';
import { isSourcedChunk } from '../chain/chain-llm.js';

/** What a segment of speech is, attached to its audio frames under `frame.userdata[SEGMENT_KEY]`. */
export interface SegmentInfo {
  turnId: string | null;
  source: Source | 'unknown';
  /** The text the TTS received for this segment; complete once the segment's audio has been produced. */
  text: string;
}

export const SEGMENT_KEY = 'holdline.segment';

export function segmentOf(frame: AudioFrame): SegmentInfo | undefined {
  return frame.userdata[SEGMENT_KEY] as SegmentInfo | undefined;
}

export class HoldlineAgent extends voice.Agent {
  /** Segments the current reply has started, waiting for their TTS call, in order. */
  private pending: SegmentInfo[] = [];

  override async llmNode(
    chatCtx: llm.ChatContext,
    toolCtx: llm.ToolContext,
    modelSettings: voice.ModelSettings,
  ): Promise<ReadableStream<llm.ChatChunk | string | FlushSentinel> | null> {
    const upstream = await voice.Agent.default.llmNode(this, chatCtx, toolCtx, modelSettings);
    if (!upstream) return null;
    // A new reply: segments of an interrupted one will never reach the TTS.
    const pending: SegmentInfo[] = [];
    this.pending = pending;
    let current: SegmentInfo | undefined;
    return upstream.pipeThrough(
      new TransformStream<llm.ChatChunk | string, llm.ChatChunk | string | FlushSentinel>({
        transform(chunk, controller) {
          const content = typeof chunk === 'string' ? chunk : (chunk.delta?.content ?? '');
          if (isSourcedChunk(chunk) && content && (!current || current.source !== chunk.source || current.turnId !== chunk.turnId)) {
            // A new speaker: close the previous segment so each is its own utterance.
            if (current) controller.enqueue(FlushSentinel);
            current = { turnId: chunk.turnId, source: chunk.source, text: '' };
            pending.push(current);
          } else if (!current && content) {
            current = { turnId: null, source: 'unknown', text: '' };
            pending.push(current);
          }
          controller.enqueue(chunk);
          // Our own messages are whole sentences: end their segment now, so they play at once.
          if (isSourcedChunk(chunk) && (chunk.source === 'hold' || chunk.source === 'apology')) {
            controller.enqueue(FlushSentinel);
            current = undefined;
          }
        },
      }),
    );
  }

  override async ttsNode(text: ReadableStream<string>, modelSettings: voice.ModelSettings): Promise<ReadableStream<AudioFrame> | null> {
    const segment = this.pending.shift() ?? { turnId: null, source: 'unknown' as const, text: '' };
    const tapped = text.pipeThrough(
      new TransformStream<string, string>({
        transform(piece, controller) {
          segment.text += piece;
          controller.enqueue(piece);
        },
      }),
    );
    const audio = await voice.Agent.default.ttsNode(this, tapped, modelSettings);
    if (!audio) return null;
    return audio.pipeThrough(
      new TransformStream<AudioFrame, AudioFrame>({
        transform(frame, controller) {
          frame.userdata[SEGMENT_KEY] = segment;
          controller.enqueue(frame);
        },
      }),
    );
  }
}
