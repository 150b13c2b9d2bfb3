/**
 * The timeline drawn as inline SVG: one lane for the caller, one per OpenRouter model (each request a bar
 * from arrival to end, coloured by outcome), one for the local server, one for the agent's waits, and one for
 * what the caller heard, with the scenario's expected start windows drawn as brackets above it. A fleet keeps the
 * model lanes (the key's requests, fleet-wide), adds a Redis lane when it went down, and gives each call one lane:
 * what its caller said and heard, its agent's waits, and its own (staggered) expected windows. Plain strings, no
 * dependencies: the page must open anywhere, offline.
 */
import { seconds } from '../check/words.js';
import type { Result } from '../result.js';
import { localOutcomeWords, outcomeClass, outcomeWords, type OutcomeClass } from './outcomes.js';
import { timelineEnd, timelineOf, type TimelineItem } from './timeline.js';

export const COLORS: Record<OutcomeClass, string> = {
  ok: '#2e7d32',
  transient: '#f29f05',
  fatal: '#c62828',
  hung: '#7b1fa2',
  aborted: '#9e9e9e',
};

export const SPEECH_COLORS = { hold: '#f29f05', answer: '#2e7d32', local: '#1565c0', apology: '#c62828', unknown: '#757575' };

const WIDTH = 1200;
const GUTTER = 300;
const LANE = 34;
/** The "caller hears" lane is taller: each utterance has its words written under its bar. */
const SPEECH_LANE = 56;
const BAR = 18;
const TOP = 30;

/** `offsetMs`: a speech lane's expected windows are shifted by it (a fleet call's stagger). */
type Lane = { label: string; items: TimelineItem[]; kind: 'caller' | 'model' | 'policy' | 'speech'; offsetMs?: number };

export function timelineSvg(result: Result): string {
  const items = timelineOf(result);
  const lanes = lanesOf(result, items);
  const endMs = niceEnd(Math.max(timelineEnd(items), 1000));
  const x = (ms: number) => GUTTER + ((WIDTH - GUTTER - 20) * ms) / endMs;
  const heightOf = (lane: Lane) => (lane.kind === 'speech' ? SPEECH_LANE : LANE);
  const height = TOP + lanes.reduce((sum, lane) => sum + heightOf(lane), 0) + 40;
  const parts: string[] = [];

  parts.push(axis(endMs, x, height));
  let y = TOP;
  lanes.forEach((lane, i) => {
    parts.push(`<rect x="0" y="${y}" width="${WIDTH}" height="${heightOf(lane)}" fill="${i % 2 ? '#fafafa' : '#fff'}"/>`);
    parts.push(`<text x="8" y="${y + LANE / 2 + 4}" class="lane">${esc(lane.label)}</text>`);
    for (const item of lane.items) parts.push(draw(item, y, x, endMs));
    if (lane.kind === 'speech') parts.push(...expectedWindows(result, y, x, lane.offsetMs ?? 0));
    y += heightOf(lane);
  });
  parts.push(axis(endMs, x, height, true));
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}" role="img" aria-label="timeline of ${esc(result.scenario.name)}">`,
    '<style>text{font:12px system-ui,sans-serif;fill:#222}.lane{font-weight:600}.tick{fill:#666;font-size:11px}.in{fill:#fff;font-size:11px}.said{font-size:11px;fill:#333}</style>',
    ...parts,
    '</svg>',
  ].join('\n');
}

function lanesOf(result: Result, items: TimelineItem[]): Lane[] {
  const requests = items.filter((i): i is Extract<TimelineItem, { kind: 'request' }> => i.kind === 'request');
  const models = [...new Set([...result.scenario.agent.models, ...requests.filter((r) => r.backend === 'openrouter').map((r) => r.model)])];
  const lanes: Lane[] = result.calls ? [] : [{ label: 'caller says', kind: 'caller', items: items.filter((i) => i.kind === 'caller') }];
  for (const model of models) {
    lanes.push({ label: model, kind: 'model', items: requests.filter((r) => r.backend === 'openrouter' && r.model === model) });
  }
  const local = requests.filter((r) => r.backend === 'local');
  if (result.scenario.agent.local || local.length > 0) lanes.push({ label: 'local (llama.cpp)', kind: 'model', items: local });
  const redis = items.filter((i) => i.kind === 'redis');
  if (redis.length > 0) lanes.push({ label: 'redis-server down', kind: 'policy', items: redis });
  if (result.calls) {
    for (const call of result.calls) {
      const own = items.filter((i) => i.call === call.call && !(i.kind === 'request' && i.backend === 'local'));
      lanes.push({ label: `call ${call.call}: says, waits, hears`, kind: 'speech', items: own, offsetMs: call.offsetMs });
    }
    return lanes;
  }
  lanes.push({ label: 'agent waits', kind: 'policy', items: items.filter((i) => i.kind === 'policy') });
  lanes.push({ label: 'caller hears', kind: 'speech', items: items.filter((i) => i.kind === 'speech' || i.kind === 'silence') });
  return lanes;
}

function draw(item: TimelineItem, y: number, x: (ms: number) => number, endMs: number): string {
  const mid = y + LANE / 2;
  switch (item.kind) {
    case 'caller': {
      // In a call's lane the answer's bar follows at once: the words stay in the tooltip, not over the bar.
      const words = item.call === undefined ? `<text x="${x(item.at) + 10}" y="${mid + 4}">${esc(clip(item.text, 60))}</text>` : '';
      return `<g><title>${esc(`${seconds(item.at)} caller: ${item.text}`)}</title><path d="M${x(item.at)} ${mid - 8} l6 8 l-6 8 l-6 -8 z" fill="#37474f"/>${words}</g>`;
    }
    case 'request': {
      const end = item.end ?? endMs;
      const color = COLORS[outcomeClass(item.outcome)];
      const words = item.backend === 'local' ? localOutcomeWords(item.outcome) : `${item.outcome} ${outcomeWords(item.outcome)}`;
      const width = Math.max(3, x(end) - x(item.at));
      const label = width > 30 ? `<text x="${x(item.at) + 4}" y="${mid + 4}" class="in">${esc(clip(item.outcome, Math.floor(width / 7)))}</text>` : '';
      return `<g><title>${esc(`${seconds(item.at)}..${item.end === null ? 'still open' : seconds(end)} ${item.model}: ${words}`)}</title><rect x="${x(item.at)}" y="${mid - BAR / 2}" width="${width}" height="${BAR}" rx="2" fill="${color}"/>${label}</g>`;
    }
    case 'policy': {
      if (item.step === 'wait' && item.until !== undefined) {
        return `<g><title>${esc(`${seconds(item.at)}: wait until ${seconds(item.until)} (${item.reason})`)}</title><line x1="${x(item.at)}" y1="${mid}" x2="${x(item.until)}" y2="${mid}" stroke="#607d8b" stroke-width="2" stroke-dasharray="4 3"/><circle cx="${x(item.until)}" cy="${mid}" r="3" fill="#607d8b"/></g>`;
      }
      const text = item.step === 'apology' ? `gives up: ${item.reason}` : `drops the turn: ${item.reason}`;
      return `<g><title>${esc(`${seconds(item.at)}: ${text}`)}</title><path d="M${x(item.at) - 5} ${mid - 5} l10 10 m0 -10 l-10 10" stroke="#c62828" stroke-width="2"/></g>`;
    }
    case 'silence': {
      const text = `silence: ${item.turnId} ended with nothing said after ${seconds(item.at - item.from)}`;
      return `<g><title>${esc(`${seconds(item.at)}: ${text}`)}</title><line x1="${x(item.from)}" y1="${mid}" x2="${x(item.at)}" y2="${mid}" stroke="#c62828" stroke-width="2" stroke-dasharray="2 4"/><path d="M${x(item.at) - 5} ${mid - 5} l10 10 m0 -10 l-10 10" stroke="#c62828" stroke-width="2"/></g>`;
    }
    case 'speech': {
      const color = SPEECH_COLORS[speechKind(item.source)];
      const width = Math.max(3, x(item.end) - x(item.at));
      const label = `<text x="${x(item.at)}" y="${mid + BAR / 2 + 14}" class="said">${esc(clip(item.text, 48))}</text>`;
      const title = `${seconds(item.at)}..${seconds(item.end)} ${item.source}: ${item.text}${item.interrupted ? ' (cut off)' : ''}`;
      return `<g><title>${esc(title)}</title><rect x="${x(item.at)}" y="${mid - BAR / 2}" width="${width}" height="${BAR}" rx="4" fill="${color}"${item.interrupted ? ' fill-opacity="0.5"' : ''}/>${label}</g>`;
    }
    case 'redis': {
      const width = Math.max(3, x(item.until) - x(item.at));
      return `<g><title>${esc(`${seconds(item.at)}..${seconds(item.until)}: redis-server killed, then started again empty`)}</title><rect x="${x(item.at)}" y="${mid - BAR / 2}" width="${width}" height="${BAR}" rx="2" fill="#b71c1c" fill-opacity="0.35"/></g>`;
    }
  }
}

/** Brackets above the "caller hears" lane: where each expected utterance had to start. */
function expectedWindows(result: Result, y: number, x: (ms: number) => number, offsetMs: number): string[] {
  return result.scenario.expect.spoken.flatMap((want, i) => {
    if (!want.startMs) return [];
    const [from, until] = want.startMs.map((ms) => ms + offsetMs) as [number, number];
    const top = y + 2;
    const title = `expected spoken[${i}] to start ${seconds(from)}..${seconds(until)}: ${want.text}`;
    return [`<g><title>${esc(title)}</title><path d="M${x(from)} ${top + 5} v-4 H${x(until)} v4" fill="none" stroke="#455a64" stroke-width="1.5"/></g>`];
  });
}

export function speechKind(source: string): keyof typeof SPEECH_COLORS {
  if (source === 'hold' || source === 'apology' || source === 'local' || source === 'unknown') return source;
  return 'answer';
}

function axis(endMs: number, x: (ms: number) => number, height: number, gridOnly = false): string {
  const step = tickStep(endMs);
  const out: string[] = [];
  for (let t = 0; t <= endMs; t += step) {
    if (gridOnly) out.push(`<text x="${x(t)}" y="${height - 12}" text-anchor="middle" class="tick">${seconds(t)}</text>`);
    else out.push(`<line x1="${x(t)}" y1="${TOP - 6}" x2="${x(t)}" y2="${height - 28}" stroke="#e0e0e0"/><text x="${x(t)}" y="${TOP - 10}" text-anchor="middle" class="tick">${seconds(t)}</text>`);
  }
  return out.join('\n');
}

/** About ten ticks at a round step: 1, 2, 5, 10, 15, 30, 60 s... */
export function tickStep(endMs: number): number {
  const steps = [500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000];
  return steps.find((s) => endMs / s <= 12) ?? 600_000;
}

function niceEnd(ms: number): number {
  const step = tickStep(ms);
  return Math.ceil(ms / step) * step;
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(1, max - 1))}…`;
}

export function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
