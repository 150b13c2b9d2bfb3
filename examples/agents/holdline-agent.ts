/**
 * An agent module on holdline's chain: your instructions and tools, `createHoldlineLLM` as its LLM. Rehearse it:
 *   npm run scenario -- rate-limit-storm --agent examples/agents/holdline-agent.ts
 * HoldlineAgent is a voice.Agent that plays the hold the moment it is decided (a plain voice.Agent works too,
 * but its TTS tokenizer would sit on the short "Hang on a sec." until the answer arrives).
 */
import { llm } from '@livekit/agents';
import { createHoldlineLLM, HoldlineAgent, type AgentModuleContext } from 'holdline';
import { z } from 'zod';

const lookupOrder = llm.tool({
  description: 'Look up the status of an order by its number.',
  parameters: z.object({ orderNumber: z.string().describe('The order number, e.g. A-1234') }),
  execute: async ({ orderNumber }) => `Order ${orderNumber} shipped yesterday.`,
});

export default function createAgent(ctx: AgentModuleContext): HoldlineAgent {
  return new HoldlineAgent({
    instructions: 'You are the voice of a small shop. Answer briefly, in plain spoken sentences.',
    tools: { lookupOrder },
    // OPENROUTER_API_KEY, OPENROUTER_BASE_URL and LOCAL_LLM_BASE_URL come from the environment (the fake's, here).
    llm: createHoldlineLLM({ models: ctx.models, hold: 'Hang on a sec.', policy: { retryWindowMs: 60_000 } }),
  });
}
