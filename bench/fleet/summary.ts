/** bench:fleet's numbers per cell, and the table the README carries. */
import type { CellResult, FleetCase } from './run.js';

export interface CellSummary {
  case: CellResult['case'];
  contender: CellResult['contender'];
  calls: number;
  turns: number;
  /** Chat requests the fake refused (any error status), and of those its own free-model quota's 429s. */
  refused: number;
  quota429: number;
  /** Refused requests per model: the dead requests. */
  deadByModel: Record<string, number>;
  /** For a storm: models x passes + the first discovery (models), the most the fleet should spend. */
  deadTarget?: number;
  firstAnswerMs?: { p50: number; p95: number; max: number };
  /**
   * For a storm: from its end to each caller's first answer (ms, the turns answered after it). What a fleet's callers
   * wait once the models are back; the turn-relative first answer mixes in when each call arrived.
   */
  afterStormMs?: { p50: number; max: number };
  holds: number;
  /** Hedged requests (each one more request against the key's quota). */
  hedged: number;
  apologies: number;
  silent: number;
  /** Upper bounds (ms) of the histogram buckets holding the median and the 99th percentile, and the decisions counted. */
  redisDecisionMs?: { p50: number; p99: number; decisions: number };
  /** The same for the booking round trips alone (the decisions that made one). */
  redisBookingMs?: { p50: number; p99: number; bookings: number };
  /** The fleet's Redis calls that missed their 50 ms deadline or failed, by operation and reason ('book timeout'). */
  redisFailures?: Record<string, number>;
  wallMs: number;
}

export function summarize(cell: CellResult, bench: FleetCase): CellSummary {
  const models = Object.keys(cell.requests).length;
  const deadByModel = Object.fromEntries(Object.entries(cell.refused).map(([model, byStatus]) => [model, Object.values(byStatus).reduce((a, b) => a + b, 0)]));
  const answers = cell.turns.map((t) => t.firstAnswerMs).filter((ms): ms is number => ms !== undefined).sort((a, b) => a - b);
  const stormEnd = bench.storm?.ms;
  const answeredAt = cell.turns.flatMap((t) => (t.firstAnswerMs === undefined ? [] : [t.at + t.firstAnswerMs]));
  const afterStorm = stormEnd === undefined ? [] : answeredAt.filter((at) => at >= stormEnd).map((at) => at - stormEnd).sort((a, b) => a - b);
  const decision = cell.redisDecision;
  const booking = cell.redisBooking;
  return {
    case: cell.case,
    contender: cell.contender,
    calls: cell.calls,
    turns: cell.turns.length,
    refused: Object.values(deadByModel).reduce((a, b) => a + b, 0),
    quota429: cell.quota429,
    deadByModel,
    ...(bench.storm && { deadTarget: models * Math.ceil(bench.storm.ms / bench.storm.retryAfterMs) + models }),
    ...(answers.length > 0 && { firstAnswerMs: { p50: rank(answers, 0.5), p95: rank(answers, 0.95), max: answers.at(-1) as number } }),
    ...(afterStorm.length > 0 && { afterStormMs: { p50: rank(afterStorm, 0.5), max: afterStorm.at(-1) as number } }),
    holds: cell.turns.filter((t) => t.held).length,
    hedged: cell.turns.reduce((sum, t) => sum + t.hedged, 0),
    apologies: cell.turns.filter((t) => t.outcome === 'apology').length,
    silent: cell.turns.filter((t) => t.outcome === 'silent' || t.outcome === 'cancelled').length,
    ...(decision && decision.count > 0 && { redisDecisionMs: { p50: bucketQuantile(decision, 0.5), p99: bucketQuantile(decision, 0.99), decisions: decision.count } }),
    ...(booking && booking.count > 0 && { redisBookingMs: { p50: bucketQuantile(booking, 0.5), p99: bucketQuantile(booking, 0.99), bookings: booking.count } }),
    ...(cell.redisFailures && { redisFailures: cell.redisFailures }),
    wallMs: cell.wallMs,
  };
}

/** Nearest rank. */
function rank(sorted: readonly number[], q: number): number {
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] as number;
}

/** The upper bound (ms) of the first bucket whose cumulative count reaches q of all: "at most this", as a histogram can say. */
function bucketQuantile(h: NonNullable<CellResult['redisDecision']>, q: number): number {
  const need = q * h.count;
  const bucket = h.buckets.find(([, cumulative]) => cumulative >= need);
  return bucket ? bucket[0] * 1000 : Infinity;
}

export function fleetTable(rows: CellSummary[]): string {
  const ms = (n: number) => (n >= 10_000 ? `${(n / 1000).toFixed(1)} s` : `${n} ms`);
  const head = '| case | contender | turns | refused by the fake (quota 429s) | dead requests per model (target) | first answer p50 / p95 / max | answered after the storm ends p50 / max | holds | hedged | apologies | silent | Redis per decision p50 / p99 |';
  const line = '|---|---|---:|---:|---|---|---|---:|---:|---:|---:|---|';
  const body = rows.map((r) => {
    const dead = Object.entries(r.deadByModel).map(([m, n]) => `${m}: ${n}`).join(', ') || 'none';
    const answer = r.firstAnswerMs ? `${ms(r.firstAnswerMs.p50)} / ${ms(r.firstAnswerMs.p95)} / ${ms(r.firstAnswerMs.max)}` : 'none answered';
    const afterStorm = r.afterStormMs ? `${ms(r.afterStormMs.p50)} / ${ms(r.afterStormMs.max)}` : '-';
    const failed = Object.entries(r.redisFailures ?? {}).map(([reason, n]) => `${n} ${reason}`).join(', ');
    const booked = r.redisBookingMs ? `; bookings ≤ ${r.redisBookingMs.p50} ms / ≤ ${r.redisBookingMs.p99} ms of ${r.redisBookingMs.bookings}` : '';
    const redis = r.redisDecisionMs ? `≤ ${r.redisDecisionMs.p50} ms / ≤ ${r.redisDecisionMs.p99} ms (${r.redisDecisionMs.decisions} decisions${booked}${failed ? `; calls ${failed}` : ''})` : '-';
    return `| ${r.case} | ${r.contender} | ${r.turns} | ${r.refused} (${r.quota429}) | ${dead}${r.deadTarget !== undefined ? ` (≤ ${r.deadTarget} in all)` : ''} | ${answer} | ${afterStorm} | ${r.holds} | ${r.hedged} | ${r.apologies} | ${r.silent} | ${redis} |`;
  });
  return [head, line, ...body].join('\n');
}
