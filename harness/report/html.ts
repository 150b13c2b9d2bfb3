/**
 * `--report out.html`: one self-contained page (inline CSS and SVG, no scripts, no external assets) with the
 * verdict, the timeline drawn, a legend, and the text timeline underneath for copy and paste.
 */
import type { Result } from '../result.js';
import { COLORS, esc, SPEECH_COLORS, timelineSvg } from './svg.js';
import { textTimeline } from './text.js';
import { seconds } from '../check/words.js';

export function htmlReport(result: Result): string {
  const { scenario } = result;
  const verdict = result.passed
    ? '<p class="verdict pass">PASSED</p>'
    : `<p class="verdict fail">FAILED</p><ul class="failures">${result.failures.map((f) => `<li>${esc(f)}</li>`).join('')}</ul>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${esc(scenario.name)}: holdline rehearsal</title>
<style>
body{font:14px system-ui,sans-serif;color:#222;margin:24px;max-width:1240px}
h1{font-size:20px;margin:0 0 4px}
.meta{color:#555;margin:0 0 12px}
.verdict{font-weight:700;display:inline-block;padding:2px 10px;border-radius:4px;color:#fff;margin:4px 0}
.pass{background:#2e7d32}.fail{background:#c62828}
.failures li{color:#b71c1c;margin:2px 0}
.legend{display:flex;flex-wrap:wrap;gap:14px;margin:8px 0 16px;color:#444}
.legend span::before{content:"";display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:5px;vertical-align:-1px;background:var(--c)}
pre{background:#f5f5f5;padding:12px;overflow:auto;font-size:12px;white-space:pre-wrap}
</style>
</head>
<body>
<h1>${esc(scenario.name)}</h1>
<p class="meta">${esc(scenario.description)}<br>${result.recording.clock === 'virtual' ? 'virtual time' : `speed ${result.speed}`} · seed ${scenario.seed} · chain: ${esc(scenario.agent.models.join(' → '))}${scenario.agent.local ? ' → local llama.cpp' : ' (local server down)'}${fleetLine(result)}</p>
${verdict}
${timelineSvg(result)}
${legend()}
<pre>${esc(textTimeline(result))}</pre>
</body>
</html>
`;
}

/** " · 10 calls, 2s apart, one Redis": what a fleet's lanes are (nothing for one call). */
function fleetLine(result: Result): string {
  if (!result.calls) return '';
  const { staggerMs, agent } = result.scenario;
  return ` · ${result.calls.length} calls${staggerMs > 0 ? `, ${seconds(staggerMs)} apart` : ''}${agent.redis === false ? ', no Redis' : ', one Redis'}`;
}

function legend(): string {
  const items: [string, string][] = [
    [COLORS.ok, 'request answered'],
    [COLORS.transient, 'request failed, worth retrying (429, 5xx, cut off)'],
    [COLORS.hung, 'request hung or stalled'],
    [COLORS.fatal, 'request refused (400-403)'],
    [COLORS.aborted, 'request abandoned'],
    [SPEECH_COLORS.hold, 'hold'],
    [SPEECH_COLORS.answer, 'answer from OpenRouter'],
    [SPEECH_COLORS.local, 'answer from the local model'],
    [SPEECH_COLORS.apology, 'apology'],
  ];
  const spans = items.map(([color, text]) => `<span style="--c:${color}">${esc(text)}</span>`).join('');
  return `<div class="legend">${spans}<span style="--c:#607d8b">agent waiting (dashed)</span><span style="--c:#455a64">expected start window (bracket)</span></div>`;
}
