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
  midStream: () => [
    { kind: 'midStream', name: 'mid-stream error after 2 tokens', then: '{ midStream: { afterTokens: 2, error: provider-down } }' },
    // OpenRouter's string code, before any text (the next backend answers) and after some (the apology).
    { kind: 'midStream', name: 'mid-stream server_error before text', then: '{ midStream: { afterTokens: 0, error: provider-down, code: server_error } }' },
    { kind: 'midStream', name: 'mid-stream server_error after 2 tokens', then: '{ midStream: { afterTokens: 2, error: provider-down, code: server_error } }' },
    {
      kind: 'midStream',
      name: 'mid-stream rate_limit_exceeded (error_type, limit_source) before text',
      then: '{ midStream: { afterTokens: 0, error: upstream-rate-limit, code: rate_limit_exceeded, errorType: rate_limit_exceeded, limitSource: provider } }',
    },
    { kind: 'midStream', name: 'mid-stream invalid_prompt before text', then: '{ midStream: { afterTokens: 0, error: bad-request, code: invalid_prompt } }' },
    { kind: 'midStream', name: 'mid-stream provider_unavailable after a slow first token', then: '{ midStream: { afterTokens: 1, error: provider-down, errorType: provider_unavailable, ttft: 3s } }' },
  ],
  malformed: () => [{ kind: 'malformed', name: 'malformed after 2 tokens', then: '{ malformed: { afterTokens: 2 } }' }],
  // A finish in failure with no error event: before any text (the next backend answers) and after some (the apology).
  failedFinish: () => [
    { kind: 'failedFinish', name: 'failed finish before text', then: '{ failedFinish: { afterTokens: 0 } }' },
    { kind: 'failedFinish', name: 'failed finish (network_error as stop) after 2 tokens', then: '{ failedFinish: { afterTokens: 2, native: network_error } }' },
  ],
  empty: () => [{ kind: 'empty', name: 'empty', then: 'empty' }],
  // A reply slower than every first-token deadline (OpenRouter's 8 s, the local server's 20 s).
  reply: () => [{ kind: 'reply', name: 'first token after 25 s', then: '{ ttft: 25s }' }],
};

export function faultSamples(): FaultSample[] {
  return FAULT_KINDS.flatMap((kind) => SAMPLES[kind]());
}
