/**
 * An agent module on LiveKit's own `llm.FallbackAdapter` (one openai.LLM per model, the local server last), as
 * LiveKit documents it. Rehearse it and see what your callers hear when every model is rate limited:
 *   npm run scenario -- rate-limit-storm --agent examples/agents/fallback-agent.ts
 * The timeline shows the turn ending in silence: the adapter gives up and the session says nothing.
 */
import { llm, voice } from '@livekit/agents';
import * as openai from '@livekit/agents-plugin-openai';
import type { AgentModuleContext } from 'holdline';
import OpenAI from 'openai';
import { z } from 'zod';

const lookupOrder = llm.tool({
  description: 'Look up the status of an order by its number.',
  parameters: z.object({ orderNumber: z.string().describe('The order number, e.g. A-1234') }),
  execute: async ({ orderNumber }) => `Order ${orderNumber} shipped yesterday.`,
});

export default function createAgent(ctx: AgentModuleContext): voice.Agent {
  const backends = [
    ...ctx.models.map((model) => ({ model, baseURL: ctx.openrouter.baseURL, apiKey: ctx.openrouter.apiKey })),
    { model: ctx.local.model, baseURL: ctx.local.baseURL, apiKey: 'local' },
  ];
  const llms = backends.map(({ model, baseURL, apiKey }) => {
    const one = new openai.LLM({ model, client: new OpenAI({ baseURL, apiKey, maxRetries: 0 }) });
    one.on('error', () => {}); // the plugin also emits stream errors as events; the adapter handles them
    return one;
  });
  return new voice.Agent({
    instructions: 'You are the voice of a small shop. Answer briefly, in plain spoken sentences.',
    tools: { lookupOrder },
    llm: new llm.FallbackAdapter({ llms }),
  });
}
