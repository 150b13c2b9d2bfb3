/**
 * An audio output that "plays" each segment for as long as its audio lasts, on the scenario clock (so at
 * `--speed N` a 2 s sentence plays in 2/N s of wall time), and reports every utterance the caller heard with
 * its true playback start and end. There is no room here; this is where a room's speaker would be.
 */
import { voice } from '@livekit/agents';
import type { AudioFrame } from '@livekit/rtc-node';
import type { Clock } from '../../contract/clock.js';
import type { AgentEvents } from '../chain/events.js';
import { SAMPLE_RATE } from './recording-tts.js';
import { segmentOf, type SegmentInfo } from '../voice/agent.js';

interface Playing {
  start: number;
  audioMs: number;
  segment: SegmentInfo | undefined;
  /** For untagged speech: the turn open when it started playing. */
  turnId: string | null;
  flushed: boolean;
  cancelFinish?: () => void;
}

export class Speaker extends voice.AudioOutput {
  private playing: Playing | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly events: AgentEvents,
    /** The turn speech belongs to when its frames carry no segment (an agent that is not HoldlineAgent). */
    private readonly turnOfUntagged: () => string | null = () => null,
  ) {
    super(SAMPLE_RATE);
  }

  override async captureFrame(frame: AudioFrame): Promise<void> {
    await super.captureFrame(frame);
    if (!this.playing) {
      this.playing = { start: this.clock.now(), audioMs: 0, segment: segmentOf(frame), turnId: this.turnOfUntagged(), flushed: false };
      this.onPlaybackStarted(Date.now());
    }
    this.playing.audioMs += (frame.samplesPerChannel / frame.sampleRate) * 1000;
  }

  override flush(): void {
    super.flush();
    const playing = this.playing;
    if (!playing || playing.flushed) return;
    playing.flushed = true;
    const remaining = Math.max(0, playing.start + playing.audioMs - this.clock.now());
    playing.cancelFinish = this.clock.schedule(() => this.finish(playing, false), remaining);
  }

  override clearBuffer(): void {
    const playing = this.playing;
    if (!playing) return;
    playing.cancelFinish?.();
    this.finish(playing, true);
  }

  private finish(playing: Playing, interrupted: boolean): void {
    if (this.playing !== playing) return;
    this.playing = undefined;
    const end = interrupted ? this.clock.now() : playing.start + playing.audioMs;
    const positionS = Math.min(playing.audioMs, end - playing.start) / 1000;
    this.events.publish({
      type: 'utterance',
      turnId: playing.segment?.turnId ?? playing.turnId,
      text: (playing.segment?.text ?? '').trim(),
      source: playing.segment?.source ?? 'unknown',
      start: Math.round(playing.start),
      end: Math.round(end),
      interrupted,
    });
    this.onPlaybackFinished({ playbackPosition: positionS, interrupted });
  }
}
