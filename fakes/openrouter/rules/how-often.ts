/**
 * How often a matching rule applies (mockttp's completion checkers): to which request numbers (`nth`) and with what
 * probability. Both are pure functions of the request: `nth` of its per-model count, the probability draw of
 * (seed, rule index, model, nth), so the outcome never depends on how concurrent requests interleave.
 */
import type { Nth } from '../../../contract/scenario/schema.js';
import { unitDraw } from '../seeded.js';
import type { RuleRequest } from './matchers.js';

export interface HowOften {
  applies(request: RuleRequest, ruleIndex: number): boolean;
  /** A phrase: `on request 1 or 3 of each model`. */
  describe(): string;
}

export function nthCheck(nth: Nth): HowOften {
  if (nth.kind === 'from') {
    return { applies: (r) => r.nth >= nth.first, describe: () => `from request ${nth.first} of each model on` };
  }
  return {
    applies: (r) => nth.values.includes(r.nth),
    describe: () => `on request ${nth.values.join(' or ')} of each model`,
  };
}

/** Applies with probability `p`, drawn per (seed, rule index, model, nth). */
export function probabilityCheck(p: number): HowOften {
  return {
    applies: (r, ruleIndex) => unitDraw(r.seed, 'rule', ruleIndex, r.model, r.nth) < p,
    describe: () => `with probability ${p}`,
  };
}

export function howOftenOf(when: { nth?: Nth; probability?: number }): HowOften[] {
  return [
    ...(when.nth !== undefined ? [nthCheck(when.nth)] : []),
    ...(when.probability !== undefined ? [probabilityCheck(when.probability)] : []),
  ];
}
