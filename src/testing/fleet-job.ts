/**
 * A job process for the fleet view's test (forked, as LiveKit forks a job): holdline's real chain, events and
 * metrics, one turn answered by a scripted backend that reports OpenRouter's usage, and the job's reporter to its
 * worker (`HOLDLINE_FLEET_REPORT_URL` and token, inherited). It reports after the turn, then waits for the parent's
 * 'stop' message (or ends at once with `--end`), sending its final report as a LiveKit job's shutdown does.
 */
import { llm } from '@livekit/agents';
import { ScaledClock } from '../../contract/clock.js';
import { loadConfig } from '../config.js';
import { createChain } from '../chain/create.js';
import { AgentEvents } from '../chain/events.js';
import { FLEET_TOKEN_ENV, FLEET_URL_ENV, jobState, startJobReporter } from '../observability/fleet.js';
import { collectMetrics } from '../observability/metrics.js';

const [job = 'job', prompt = '10', completion = '5', cost = '0.001'] = process.argv.slice(2);
const config = loadConfig({ OPENROUTER_API_KEY: 'sk-or-v1-fleet-job', LLM_MODEL: 'a/one,b/two', LOCAL_LLM_BASE_URL: 'http://127.0.0.1:9/v1', HEDGE_BUDGET_PERCENT: '0' });
const clock = new ScaledClock(1);
const events = new AgentEvents(clock);
const metrics = collectMetrics(events);
const chain = createChain(config, clock, events, async (req) => {
  if (req.backend.model === 'a/one') {
    return { cancelled: false, textSent: false, failure: { class: 'rate-limit', detail: '429', status: 429, retryAfterMs: 600_000 } };
  }
  req.onChunk({ id: 'gen', delta: { role: 'assistant', content: 'Paris.' } });
  return { cancelled: false, textSent: true, status: 200, ttftMs: 5, usage: { promptTokens: Number(prompt), completionTokens: Number(completion), costUsd: Number(cost) } };
});
const reporter = startJobReporter({
  url: process.env[FLEET_URL_ENV] as string,
  token: process.env[FLEET_TOKEN_ENV] as string,
  job,
  registry: metrics.registry,
  state: () => jobState(chain, clock),
  everyMs: 60_000,
});

const ctx = llm.ChatContext.empty();
ctx.addMessage({ role: 'user', content: 'What is the capital of France?' });
for await (const _chunk of chain.chat({ chatCtx: ctx }));
await reporter.report();
process.send?.('reported');
if (!process.argv.includes('--end')) await new Promise((resolve) => process.once('message', resolve));
await reporter.stop();
process.disconnect?.();
