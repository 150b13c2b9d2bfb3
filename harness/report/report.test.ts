import { describe, expect, it } from 'vitest';
import { stormResult } from './fixture.js';
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
