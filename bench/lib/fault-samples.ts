/**
 * One fault of every kind the fake has, as the fault matrix plays them. Keyed by `FaultKind`, so a kind added to
 * the schema without a sample here is a compile error, and `faultSamples()` walks `FAULT_KINDS`, so it joins
 * the matrix by itself. `error` has one sample per preset (each is a different OpenRouter failure).
 */
import { ERROR_PRESETS, FAULT_KINDS, type FaultKind } from '../../contract/scenario/schema.js';
import type { FaultSample } from './fault-places.js';

const SAMPLES: { [K in FaultKind]: () => FaultSample[] } = {
  error: () => ERROR_PRESETS.map((preset) => ({ kind: 'error', name: `error ${preset}`, then: `{ error: ${preset} }`, preset })),
  status: () => [{ kind: 'status', name: 'status 500', then: '{ status: 500 }' }],
  hang: () => [{ kind: 'hang', name: 'hang', then: 'hang' }],
  stall: () => [{ kind: 'stall', name: 'stall', then: 'stall' }],
  reset: () => [{ kind: 'reset', name: 'reset', then: 'reset' }],
  disconnect: () => [{ kind: 'disconnect', name: 'disconnect after 2 tokens', then: '{ disconnect: { afterTokens: 2 } }' }],
  midStream: () => [{ kind: 'midStream', name: 'mid-stream error after 2 tokens', then: '{ midStream: { afterTokens: 2, error: provider-down } }' }],
  malformed: () => [{ kind: 'malformed', name: 'malformed after 2 tokens', then: '{ malformed: { afterTokens: 2 } }' }],
  empty: () => [{ kind: 'empty', name: 'empty', then: 'empty' }],
  // A reply slower than every first-token deadline (OpenRouter's 8 s, the local server's 20 s).
  reply: () => [{ kind: 'reply', name: 'first token after 25 s', then: '{ ttft: 25s }' }],
};

export function faultSamples(): FaultSample[] {
  return FAULT_KINDS.flatMap((kind) => SAMPLES[kind]());
}
