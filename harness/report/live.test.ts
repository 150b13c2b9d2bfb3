import { describe, expect, it } from 'vitest';
import type { AgentEvent } from '../../contract/events.js';
import { liveLine } from './live.js';

const base = { epochMs: 0 };

describe('the live view while a rehearsal plays', () => {
  it('says who was asked, what happened and for how long it cools down', () => {
    const attempt: AgentEvent = { ...base, type: 'attempt', at: 450, turnId: 'turn-1', pass: 1, backend: 'openrouter', model: 'a/b', outcome: 'rate-limit', status: 429, latencyMs: 12, cooldownUntil: 2450 };
    expect(liveLine(attempt)).toBe('0.45s agent asks a/b: rate limited (429), cooling down until 2.45s');
    expect(liveLine({ ...attempt, backend: 'local', model: 'tiny', outcome: 'connection', status: undefined, cooldownUntil: undefined })).toBe('0.45s agent asks the local model: unreachable');
    expect(liveLine({ ...attempt, outcome: 'ok', status: 200, cooldownUntil: undefined })).toBe('0.45s agent asks a/b: answered');
  });

  it('shows the policy steps and what the caller hears, with its playback times', () => {
    expect(liveLine({ ...base, type: 'policy', at: 540, turnId: 'turn-1', step: 'wait', until: 2540, reason: 'backoff 2000 ms, pass 2 next' })).toBe(
      '0.54s agent waits until 2.54s (backoff 2000 ms, pass 2 next)',
    );
    expect(liveLine({ ...base, type: 'utterance', at: 1490, turnId: 'turn-1', text: 'Hang on a sec.', source: 'hold', start: 640, end: 1480, interrupted: false })).toBe(
      '0.64s..1.48s caller hears hold: "Hang on a sec."',
    );
  });

  it('what the caller hears is one line that cannot drive the terminal, whatever the model said', () => {
    const line = liveLine({ ...base, type: 'utterance', at: 900, turnId: 'turn-1', text: 'Paris.\n\u009b2J\u001b[31m\u202eevil', source: 'hold', start: 0, end: 900, interrupted: false });
    expect(line).toBe('0.00s..0.90s caller hears hold: "Paris.\\n\\u009b2J\\u001b[31m\\u202eevil"');
  });

  it('stays quiet about state changes and turn bookkeeping', () => {
    expect(liveLine({ ...base, type: 'state', at: 0, from: 'listening', to: 'thinking' })).toBeUndefined();
    expect(liveLine({ ...base, type: 'turn_end', at: 0, turnId: 'turn-1', outcome: 'answered', source: 'hold' })).toBeUndefined();
  });
});
