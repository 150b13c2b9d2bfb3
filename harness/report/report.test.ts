import { describe, expect, it } from 'vitest';
import { fleetResult, stormResult } from './fixture.js';
import { htmlReport } from './html.js';
import { textTimeline } from './text.js';

const META = 'meta-llama/llama-3.3-70b-instruct:free';

describe('the text timeline', () => {
  const text = textTimeline(stormResult());

  it('has one line per utterance with start, end, source and text', () => {
    expect(text).toContain('0.10s..0.94s    hold: "Hang on a sec."');
    expect(text).toContain(`8.45s..10.31s   openrouter:${META}: "Paris is the capital of France."`);
  });

  it('has one line per request with time, model and outcome in words, the local server included', () => {
    expect(text).toContain(`0.06s           request ${META} -> 429 rate limited`);
    expect(text).toContain(`8.10s           request ${META} -> 200 answered`);
    expect(text).toContain('0.09s           request local (llama.cpp) -> unreachable');
  });

  it('ends with the verdict and every failure in plain words', () => {
    expect(text).toMatch(/FAILED storm: 2 utterance\(s\), 3 request\(s\) to OpenRouter\n {2}- spoken\[1\]: expected "Paris is the capital of France." .* starting 2s\.\.3s, heard .* at 8\.45s$/);
  });
});

describe('the HTML report', () => {
  const html = htmlReport(stormResult());

  it('is one self-contained page: inline SVG, no scripts, nothing fetched', () => {
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<svg xmlns="http://www.w3.org/2000/svg"');
    expect(html).not.toMatch(/<script|<link|<img|src=|@import|url\(/i);
  });

  it('draws a lane per model, the local server, the waits and what the caller heard', () => {
    for (const lane of ['caller says', META, 'qwen/qwen-2.5-72b-instruct:free', 'local (llama.cpp)', 'agent waits', 'caller hears']) {
      expect(html).toContain(`class="lane">${lane}</text>`);
    }
    expect(html).toContain(`<title>0.06s..0.07s ${META}: 429 rate limited</title>`);
  });

  it('escapes scenario text', () => {
    expect(html).toContain('rate-limited &lt;for a while&gt; &amp; then answers');
    expect(html).not.toContain('<for a while>');
  });

  it('shows the verdict and the failures', () => {
    expect(html).toContain('<p class="verdict fail">FAILED</p>');
    expect(html).toMatch(/<li>spoken\[1\]: expected &quot;Paris/);
  });
});

describe('a fleet in the timeline and the report: one lane per call', () => {
  const result = fleetResult();

  it('the text timeline names each item\'s lane: its call, or the fleet for the key\'s requests and Redis', () => {
    const text = textTimeline(result);
    expect(text).toContain('fleet (speed 1, seed 1, 2 calls 1s apart): Two calls on one key.');
    expect(text).toContain(`0.05s           fleet   request ${META} -> 429 rate limited`);
    expect(text).toContain('0.30s..1.10s    call 1  openrouter:qwen/qwen-2.5-72b-instruct:free: "Paris is the capital of France."');
    expect(text).toContain('1.00s           call 2  caller: "What is the capital of France?"');
    expect(text).toContain('0.50s..1.50s    fleet   redis-server down (killed) until 1.5s');
  });

  it('judges each call against its own windows and names the call that heard something else', () => {
    expect(result.failures).toEqual([
      'call 2: spoken[0]: expected "Paris is the capital of France." starting 1s..2s, heard "Hang on a sec." from hold at 1.2s',
    ]);
    expect(textTimeline(result)).toContain('FAILED fleet: 2 calls, 2 utterance(s), 3 request(s) to OpenRouter');
  });

  it('the report draws the models fleet-wide, Redis, and one lane per call with its shifted windows', () => {
    const html = htmlReport(result);
    for (const lane of [META, 'redis-server down', 'call 1: says, waits, hears', 'call 2: says, waits, hears']) {
      expect(html).toContain(`class="lane">${lane}</text>`);
    }
    expect(html).not.toContain('class="lane">caller hears</text>');
    expect(html).toContain('(local server down) · 2 calls, 1s apart, one Redis</p>');
    expect(html).toContain('<title>expected spoken[0] to start 0s..1s: Paris is the capital of France.</title>');
    expect(html).toContain('<title>expected spoken[0] to start 1s..2s: Paris is the capital of France.</title>');
  });
});
