/**
 * LiveKit's openai plugin, as the agent uses it, pointed at the fake: a reply streams through as text, and an
 * OpenRouter mid-stream error surfaces as an error, not as a silent short answer.
 */
import { initializeLogger, llm } from '@livekit/agents';
import * as openaiPlugin from '@livekit/agents-plugin-openai';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningFake } from './server.js';
import { fakeFor, MODEL_A, openaiFor } from './testing.js';

beforeAll(() => initializeLogger({ pretty: false, level: 'silent' }));

async function ask(fake: RunningFake): Promise<{ text: string; error?: unknown }> {
  const model = new openaiPlugin.LLM({ model: MODEL_A, client: openaiFor(fake) });
  // The plugin reports stream failures as `error` events on the model, as the agent's attempt runner reads them.
  let reported: unknown;
  model.on('error', (event: { error: unknown }) => {
    reported ??= event.error;
  });
  const chatCtx = llm.ChatContext.empty();
  chatCtx.addMessage({ role: 'user', content: 'What is the capital of France?' });
  const stream = model.chat({ chatCtx, connOptions: { maxRetry: 0, retryIntervalMs: 0, timeoutMs: 30_000 } });
  let text = '';
  try {
    for await (const chunk of stream) text += chunk.delta?.content ?? '';
  } catch (error) {
    reported ??= error;
  } finally {
    stream.close();
  }
  return reported === undefined ? { text } : { text, error: reported };
}

describe('the LiveKit openai plugin against the fake', () => {
  let fake: RunningFake;
  afterEach(() => fake.close());

  it('streams the reply', async () => {
    fake = await fakeFor({ reply: { text: 'Paris is the capital of France.' } });
    expect(await ask(fake)).toEqual({ text: 'Paris is the capital of France.' });
  });

  it('surfaces a mid-stream error after the tokens before it', async () => {
    fake = await fakeFor({ reply: { text: 'Paris is the capital' }, rules: [{ then: { midStream: { afterTokens: 2, error: 'provider-down' } } }] });
    const { text, error } = await ask(fake);
    expect(text).toBe('Paris is');
    expect(error).toBeDefined();
    expect(JSON.stringify(error, Object.getOwnPropertyNames(error))).toContain('Provider returned error');
  });
});
