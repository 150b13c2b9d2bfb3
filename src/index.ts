/**
 * holdline as a library (`import { createHoldlineLLM } from 'holdline'`): the chain as an `llm.LLM` for your own
 * agent, the agent class that plays the hold at once, and the contract of an agent module that
 * `holdline scenario <name> --agent ./my-agent.ts` rehearses.
 */
export { createHoldlineLLM, isHoldlineLLM, HoldlineOptionsError, type HoldlineLLM, type HoldlineLLMOptions } from './package/holdline-llm.js';
export { HoldlineAgent } from './voice/agent.js';
export { AgentModuleError, type AgentFactory, type AgentModuleContext } from './rehearsal/agent-module.js';
export type { AgentEvents } from './chain/events.js';
export type { Deadlines, PolicyConfig } from './config.js';
export type { AgentEvent, AttemptEvent, PolicyEvent, TurnEndEvent, TurnEvent, UtteranceEvent } from '../contract/events.js';
