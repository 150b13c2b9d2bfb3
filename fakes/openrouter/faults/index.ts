/**
 * The fault registry: every `FaultKind` of the contract mapped to its module. The `satisfies` clause makes a kind
 * without a module (or a module under the wrong kind) a compile error. Adding a kind: its schema entry in
 * contract/scenario/schema.ts, one file here, one line below.
 */
import type { Fault, FaultKind } from '../../../contract/scenario/schema.js';
import type { Exchange } from '../exchange.js';
import { disconnect } from './disconnect.js';
import { empty } from './empty.js';
import { error } from './error.js';
import { failedFinish } from './failed-finish.js';
import type { FaultModule, Handled } from './fault.js';
import { hang } from './hang.js';
import { malformed } from './malformed.js';
import { midStream } from './mid-stream.js';
import { reply } from './reply.js';
import { reset } from './reset.js';
import { stall } from './stall.js';
import { status } from './status.js';

export const FAULTS = {
  error,
  status,
  hang,
  stall,
  reset,
  disconnect,
  midStream,
  malformed,
  failedFinish,
  empty,
  reply,
} as const satisfies { [K in FaultKind]: FaultModule<K> };

/** The registry's type says FAULTS[k] is FaultModule<k>; TypeScript cannot narrow a union index to that alone. */
function moduleFor<K extends FaultKind>(kind: K): FaultModule<K> {
  return FAULTS[kind] as unknown as FaultModule<K>;
}

/** The fault explained as the end of a sentence ("answer 429 rate-limit-per-minute"). */
export function describeFault(fault: Fault): string {
  return moduleFor(fault.kind).describe(fault as never);
}

/** Runs the fault's handler for one exchange. */
export function handleFault(fault: Fault, ex: Exchange): Promise<Handled> {
  return moduleFor(fault.kind).handle(fault as never, ex);
}

export type { FaultModule, Handled } from './fault.js';
