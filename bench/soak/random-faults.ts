/**
 * A random fault of any kind, with random settings, for the soak. Keyed by `FaultKind`: a kind added to the
 * schema without a generator here is a compile error, and `randomFault` draws the kind from `FAULT_KINDS`.
 */
import { ERROR_PRESETS, FAULT_KINDS, type FaultKind } from '../../contract/scenario/schema.js';
import type { FaultSample } from '../../test/kit/fault-places.js';
import type { Random } from '../lib/random.js';

const STATUSES = [400, 404, 408, 429, 500, 502, 503, 504];

const GENERATORS: { [K in FaultKind]: (r: Random) => Omit<FaultSample, 'kind'> } = {
  error: (r) => {
    const preset = r.pick(ERROR_PRESETS);
    const retryAfter = r.chance(0.3) ? `, retryAfter: ${r.int(1, 20)}s` : '';
    return { name: `error ${preset}`, then: `{ error: ${preset}${retryAfter} }`, preset };
  },
  status: (r) => {
    const status = r.pick(STATUSES);
    return { name: `status ${status}`, then: `{ status: ${status} }` };
  },
  hang: () => ({ name: 'hang', then: 'hang' }),
  stall: (r) => (r.chance(0.5) ? { name: 'stall', then: 'stall' } : { name: 'stall (slow comments)', then: `{ stall: { every: ${r.int(1, 6)}s } }` }),
  reset: () => ({ name: 'reset', then: 'reset' }),
  disconnect: (r) => {
    const n = r.int(0, 5);
    return { name: `disconnect after ${n}`, then: `{ disconnect: { afterTokens: ${n} } }` };
  },
  midStream: (r) => {
    const n = r.int(0, 5);
    const error = r.pick(ERROR_PRESETS);
    return {
      name: `mid-stream ${error} after ${n}`,
      then: `{ midStream: { afterTokens: ${n}, error: ${error} } }`,
      // A llama.cpp server's error event carries no OpenRouter quota or account message.
      local: `{ midStream: { afterTokens: ${n}, error: provider-down } }`,
    };
  },
  malformed: (r) => {
    const n = r.int(0, 5);
    return { name: `malformed after ${n}`, then: `{ malformed: { afterTokens: ${n} } }` };
  },
  failedFinish: (r) => {
    const n = r.int(0, 5);
    const native = r.pick(['error', 'network_error'] as const);
    return { name: `failed finish (${native}) after ${n}`, then: `{ failedFinish: { afterTokens: ${n}, native: ${native} } }` };
  },
  empty: () => ({ name: 'empty', then: 'empty' }),
  // Slow replies on both sides of the deadlines: first token from 0.5 s to 30 s, 0.5 to 60 tokens a second.
  reply: (r) => {
    const ttftMs = r.int(500, 30_000);
    const tps = r.pick([0.5, 2, 10, 40, 60]);
    return { name: `reply after ${ttftMs} ms at ${tps}/s`, then: `{ ttft: ${ttftMs}ms, tokensPerSecond: ${tps} }` };
  },
};

export function randomFault(r: Random): FaultSample {
  const kind = r.pick(FAULT_KINDS);
  return { kind, ...GENERATORS[kind](r) };
}
