import { describe, expect, it } from 'vitest';
import { checkRequests, type RequestSeen } from './requests.js';

const META = 'meta-llama/llama-3.3-70b-instruct:free';
const QWEN = 'qwen/qwen-2.5-72b-instruct:free';
const seen: RequestSeen[] = [
  { at: 60, model: META, outcome: '429' },
  { at: 82, model: QWEN, outcome: '429' },
  { at: 2083, model: META, outcome: '200' },
];

describe('checkRequests', () => {
  it('counts requests per model glob', () => {
    expect(checkRequests([{ model: 'meta-llama/*', count: 2 }, { model: 'qwen/*', min: 1, max: 1 }, { model: 'google/*', count: 0 }], seen)).toEqual([]);
  });

  it('says what was expected and lists what came, with times and outcomes', () => {
    expect(checkRequests([{ model: 'meta-llama/*', count: 1 }], seen)).toEqual([
      'requests to "meta-llama/*": expected exactly 1 request, got 2 (0.06s 429, 2.08s 200)',
    ]);
    expect(checkRequests([{ model: 'qwen/*', min: 2 }], seen)).toEqual(['requests to "qwen/*": expected at least 2 requests, got 1 (0.08s 429)']);
    expect(checkRequests([{ model: '*', min: 0, max: 2 }], seen)).toEqual([
      'requests to "*": expected 0 to 2 requests, got 3 (0.06s 429, 0.08s 429, 2.08s 200)',
    ]);
    expect(checkRequests([{ model: 'google/*', min: 1 }], seen)).toEqual(['requests to "google/*": expected at least 1 request, got 0']);
  });
});
