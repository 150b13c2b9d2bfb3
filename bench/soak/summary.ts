/** The soak's summary, a few lines for the terminal (the first is what the README quotes). */
import type { SoakReport } from './run.js';

export function summary(r: SoakReport): string {
  const m = r.memory;
  const gc = m.after.afterGc ? 'after GC' : 'no --expose-gc, before GC';
  return [
    `soak seed ${r.seed}, speed ${r.speed}: ${r.turns} turns in ${r.segments} fault segments, ${(r.wallMs / 1000).toFixed(0)} s wall`,
    `  ${r.answers} answered, ${r.apologies} apologies, ${r.holds} holds; ${r.requests.chat} requests, ${r.requests.failed} met a fault`,
    `  memory (${gc}): heap ${m.before.heapUsedMb} -> ${m.after.heapUsedMb} MB, rss ${m.before.rssMb} -> ${m.after.rssMb} MB` +
      (m.closed ? `; heap ${m.closed.heapUsedMb} MB once the session and the fake are closed` : ''),
    `  ${r.failures.length === 0 ? 'every invariant held on every turn' : `${r.failures.length} turn(s) broke an invariant`}`,
  ].join('\n');
}
