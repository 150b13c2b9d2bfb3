/**
 * An agent module on holdline's chain: your instructions and tools, `createHoldlineLLM` as its LLM. The README's
 * example is this file from the first import on (a test keeps them equal). Rehearse it:
 *   npm run scenario -- rate-limit-storm --agent examples/agents/holdline-agent.ts
 * HoldlineAgent is a voice.Agent that plays the hold the moment it is decided (a plain voice.Agent works too,
 * but its TTS tokenizer would sit on the short "Hang on a sec." until the answer arrives).
 */
import { llm } from '@livekit/agents';
import { createHoldlineLLM, HoldlineAgent, type AgentModuleContext } from 'holdline';
import { z } from 'zod';

const lookupOrder = llm.tool({
  description: 'Look up the status of an order by its number.',
  parameters: z.object({ orderNumber: z.string() }),
  execute: async ({ orderNumber }) => `Order ${orderNumber} shipped yesterday.`,
});

// In a rehearsal `ctx` points at the fake; in your worker, call createAgent() and the environment decides.
export default function createAgent(ctx?: AgentModuleContext) {
  return new HoldlineAgent({
    instructions: 'You are the voice of a small shop. Answer briefly, in plain spoken sentences.',
    tools: { lookupOrder },
    llm: createHoldlineLLM({
      models: ctx?.models ?? ['meta-llama/llama-3.3-70b-instruct:free', 'qwen/qwen-2.5-72b-instruct:free'],
      local: ctx?.local, // default: LOCAL_LLM_BASE_URL, LOCAL_LLM_MODEL
      hold: 'Hang on a sec.',
      apology: "Sorry, I can't answer that right now.",
      policy: { retryWindowMs: 60_000 },
    }),
  });
}
