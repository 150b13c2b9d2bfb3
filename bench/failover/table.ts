/** The side-by-side table, as Markdown (the terminal prints the same text the README carries). */
import type { Spread } from '../lib/stats.js';
import { CONTENDERS } from './contenders.js';
import type { CellResult } from './run.js';
import { BENCH_SCENARIOS } from './scenarios.js';

/** Under a second in ms (the local model answers in tens of them), else seconds with one decimal. */
const seconds = (ms: number) => (ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`);
const spreadText = (s: Spread | undefined) => (s ? `${seconds(s.median)} / ${seconds(s.max)}` : '-');

export function failoverTable(cells: readonly CellResult[]): string {
  const header = [
    'Outage',
    'Contender',
    'Failed requests (of all)',
    'First audio, median / max',
    'First answer, median / max',
    'Answered',
    'Apology',
    'Silent (cut off)',
    'Session closes',
    'Holds',
    'Hedged',
    'Recovery',
    'Wall',
  ];
  const rows = cells.map((cell) => {
    const s = cell.summary;
    const title = BENCH_SCENARIOS.find((b) => b.id === cell.scenario)?.title ?? cell.scenario;
    const label = CONTENDERS.find((c) => c.id === cell.contender)?.label ?? cell.contender;
    return [
      title,
      label,
      `${s.requests.failed} (${s.requests.chat})`,
      spreadText(s.firstAudioMs),
      spreadText(s.answerMs),
      `${s.answered}/${s.turns}`,
      `${s.apologies}/${s.turns}`,
      `${s.silent}/${s.turns} (${s.cutOff})`,
      String(s.closes),
      `${s.holds}/${s.turns}`,
      String(s.hedged),
      s.recoveryMs === undefined ? '-' : seconds(s.recoveryMs),
      seconds(s.wallMs),
    ];
  });
  return [header, header.map(() => '---'), ...rows].map((cols) => `| ${cols.join(' | ')} |`).join('\n');
}
