/**
 * A scenario rule made runnable: matchers (which requests), how-often checks (which of those), and the fault
 * (what happens), kept apart as in mockttp, and the whole explained in one sentence for the journal and the CLI:
 *   rule 0: for any model arriving from 0s until 8s, answer 429 rate-limit-per-minute with Retry-After 2s.
 */
import type { Fault, Rule, Scenario } from '../../../contract/scenario/schema.js';
import { describeFault } from '../faults/index.js';
import { DEFAULT_REPLY_SENTENCE } from './decide.js';
import { howOftenOf, type HowOften } from './how-often.js';
import { matchersOf, type Matcher, type RuleRequest } from './matchers.js';

export interface CompiledRule {
  index: number;
  matchers: Matcher[];
  howOften: HowOften[];
  fault: Fault;
  /** True when every matcher matches and every how-often check lets it apply. */
  applies(request: RuleRequest): boolean;
  /** The rule in one sentence. */
  describe(): string;
}

export function compileRule(rule: Rule, index: number): CompiledRule {
  const matchers = matchersOf(rule.when);
  const howOften = howOftenOf(rule.when);
  const sentence = `rule ${index}: for ${[...matchers, ...howOften].map((m) => m.describe()).join(', ')}, ${describeFault(rule.then)}.`;
  return {
    index,
    matchers,
    howOften,
    fault: rule.then,
    applies: (request) => matchers.every((m) => m.matches(request)) && howOften.every((h) => h.applies(request, index)),
    describe: () => sentence,
  };
}

export function compileRules(rules: readonly Rule[]): CompiledRule[] {
  return rules.map(compileRule);
}

/** Every rule of a scenario in one sentence each, then what everything else gets. */
export function describeRules(scenario: Scenario): string[] {
  return [...compileRules(scenario.fake.rules).map((r) => r.describe()), `otherwise: ${DEFAULT_REPLY_SENTENCE}`];
}
