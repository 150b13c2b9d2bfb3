/**
 * The rehearsal agent's demo tool (`REHEARSAL_TOOL=order-lookup`): `lookup_order(order_id)` answers a fixed status
 * for each id, so a scenario can rehearse a tool turn (the model calls, the agent runs the tool, the model answers
 * from its result) and check, through the `tool` event, that each call ran exactly once. No I/O, no clock: the same
 * id always gets the same answer.
 */
import { llm } from '@livekit/agents';
import { z } from 'zod';
import type { AgentEvents } from '../chain/events.js';

const STATUSES = ['is being packed', 'has shipped and arrives Friday', 'was delivered on Monday', 'is waiting for payment'] as const;

/** The status of an order: a pure function of its id (the sum of its character codes picks one). */
export function orderStatus(orderId: string): string {
  const sum = Array.from(orderId).reduce((total, ch) => total + (ch.codePointAt(0) ?? 0), 0);
  return `Order ${orderId} ${STATUSES[sum % STATUSES.length]}.`;
}

/** The tool, reporting every run as a `tool` event. */
export function orderLookupTool(events: AgentEvents) {
  return llm.tool({
    description: "Looks up a customer's order by its id and tells its status.",
    parameters: z.object({ order_id: z.string().describe('The order id, e.g. 4417') }),
    execute: async ({ order_id }, { ctx }) => {
      const result = orderStatus(order_id);
      events.publish({ type: 'tool', callId: ctx.functionCall.callId, name: ctx.functionCall.name, arguments: ctx.functionCall.args, result });
      return result;
    },
  });
}
