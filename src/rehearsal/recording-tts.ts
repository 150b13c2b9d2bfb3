/**
 * Speech for rehearsal: a TTS whose audio lasts a deterministic time per character (silence, no model), so
 * an utterance's playback length is a pure function of its text and the timeline is reproducible.
 * Non-streaming, like most HTTP TTS services: the framework wraps it with its sentence tokenizer, as it would
 * a real one.
 */
import { tts, type APIConnectOptions } from '@livekit/agents';
import { AudioFrame } from '@livekit/rtc-node';

export const SAMPLE_RATE = 24_000;
/** Scenario milliseconds of audio per character of text: about 150 words a minute. */
export const MS_PER_CHAR = 60;
const FRAME_MS = 20;
const SAMPLES_PER_FRAME = (SAMPLE_RATE * FRAME_MS) / 1000;

/** Scenario milliseconds of audio for a text. */
export function speechDurationMs(text: string): number {
  return text.trim().length * MS_PER_CHAR;
}

class RecordingStream extends tts.ChunkedStream {
  label = 'holdline.RecordingStream';

  protected async run(): Promise<void> {
    const frames = Math.ceil(speechDurationMs(this.inputText) / FRAME_MS);
    const requestId = `rec-${Date.now()}`;
    for (let i = 0; i < frames; i++) {
      this.queue.put({
        requestId,
        segmentId: requestId,
        final: i === frames - 1,
        frame: new AudioFrame(new Int16Array(SAMPLES_PER_FRAME), SAMPLE_RATE, 1, SAMPLES_PER_FRAME),
      });
    }
  }
}

export class RecordingTTS extends tts.TTS {
  label = 'holdline.RecordingTTS';

  constructor() {
    super(SAMPLE_RATE, 1, { streaming: false });
  }

  synthesize(text: string, connOptions?: APIConnectOptions, abortSignal?: AbortSignal): tts.ChunkedStream {
    return new RecordingStream(text, this, connOptions, abortSignal);
  }

  stream(): tts.SynthesizeStream {
    throw new Error('RecordingTTS does not stream; the framework wraps it in a StreamAdapter');
  }
}
