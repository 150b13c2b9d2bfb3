/**
 * Which fault answers a request: the first rule that applies wins; a request no rule catches gets `fake.reply`.
 * Pure: the same request against the same rules decides the same way.
 */
import type { Fault } from '../../../contract/scenario/schema.js';
import { describeFault } from '../faults/index.js';
import type { CompiledRule } from './rule.js';
import type { RuleRequest } from './matchers.js';

export interface Decision {
  /** The rule that decided, or null for the default reply. */
  rule: CompiledRule | null;
  fault: Fault;
  /** The decision in one sentence. */
  text: string;
}

/** The default reply as a fault: `fake.reply` supplies text and pace (see faults/pacing.ts). */
export const DEFAULT_REPLY: Fault = { kind: 'reply' };
/** What a request no rule catches gets, as the end of a sentence: "reply with fake.reply.". */
export const DEFAULT_REPLY_SENTENCE = `${describeFault(DEFAULT_REPLY)}.`;
export const DEFAULT_REPLY_TEXT = `no rule matched: ${DEFAULT_REPLY_SENTENCE}`;

export function decide(rules: readonly CompiledRule[], request: RuleRequest): Decision {
  const rule = rules.find((r) => r.applies(request));
  if (!rule) return { rule: null, fault: DEFAULT_REPLY, text: DEFAULT_REPLY_TEXT };
  return { rule, fault: rule.fault, text: rule.describe() };
}
